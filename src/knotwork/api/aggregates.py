"""``/api/v1/groups``, ``/api/v1/health`` (k-anonymous aggregates: analysts and admins) and
``/api/v1/team`` (a proposed team for a purpose)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.policy import ADMIN

router = APIRouter(prefix="/api/v1", tags=["aggregates"])
AsOf = Annotated[int | None, Query(ge=0, le=2**40, description="Unix seconds.")]


def _k_min(request: Request) -> int:
    k: int = request.app.state.settings.k_min
    return k


@router.get("/groups")
def groups(request: Request, store: StoreDep, caller: Caller, as_of: AsOf = None) -> dict[str, Any]:
    """Emergent groups; groups under k_min people are suppressed (admins see members)."""
    from knotwork.services.groups import groups as find

    result = find(store, as_of=as_of, k_min=_k_min(request), admin=caller.role == ADMIN)
    answer: dict[str, Any] = result.to_dict()
    return answer


@router.get("/health")
def health(request: Request, store: StoreDep, caller: Caller, as_of: AsOf = None) -> dict[str, Any]:
    """Network health metrics (inequality, periphery, brokers, silos, truck factor, growth)."""
    from knotwork.services.health import health as measure

    answer: dict[str, Any] = measure(store, as_of=as_of, k_min=_k_min(request)).to_dict()
    return answer


@router.get("/team")
def team(
    store: StoreDep,
    caller: Caller,
    purpose: Annotated[str, Query(min_length=1, max_length=500, pattern=r"\S")],
    size: Annotated[int, Query(ge=1, le=20)] = 4,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """A proposed team for ``purpose``: who covers it best while working well together."""
    from knotwork.services.team import team as propose

    answer: dict[str, Any] = propose(store, purpose, size=size, as_of=as_of).to_dict()
    return answer
