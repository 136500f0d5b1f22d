"""``/api/v1/groups``, ``/api/v1/health`` (k-anonymous aggregates: analysts and admins) and
``/api/v1/team`` (a proposed team for a purpose).

Aggregates answered to analysts go through the app's
:class:`~knotwork.services.privacy_store.StoredLedgers`, kept in the store: no two answers
(another ``as_of``, a person who opted out in between; from any worker, before or after a
restart) differ by fewer than ``k_min`` people; admins see every figure.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.policy import ADMIN
from knotwork.services.privacy import Ledger
from knotwork.services.privacy_store import StoredLedgers
from knotwork.store.accounts import secret_key

router = APIRouter(prefix="/api/v1", tags=["aggregates"])
AsOf = Annotated[int | None, Query(ge=0, le=2**40, description="Unix seconds.")]


def _k_min(request: Request) -> int:
    k: int = request.app.state.settings.k_min
    return k


def ledger(request: Request, caller: Caller, kind: str) -> Ledger | None:
    """The app's ledger of ``kind`` for a non-admin caller; None for admins."""
    if caller.role == ADMIN:
        return None
    state = request.app.state
    if getattr(state, "ledgers", None) is None:  # an app not made by create_app
        key = getattr(state, "key", None) or secret_key()
        state.ledgers = StoredLedgers(state.store, key, _k_min(request))
    found: Ledger = state.ledgers[kind]
    return found


@router.get("/groups")
def groups(request: Request, store: StoreDep, caller: Caller, as_of: AsOf = None) -> dict[str, Any]:
    """Emergent groups; groups under k_min people are suppressed (admins see members)."""
    from knotwork.services.groups import groups as find

    result = find(
        store,
        as_of=as_of,
        k_min=_k_min(request),
        admin=caller.role == ADMIN,
        ledger=ledger(request, caller, "groups"),
    )
    answer: dict[str, Any] = result.to_dict()
    return answer


@router.get("/health")
def health(request: Request, store: StoreDep, caller: Caller, as_of: AsOf = None) -> dict[str, Any]:
    """Network health metrics (inequality, periphery, brokers, silos, truck factor, growth)."""
    from knotwork.services.health import health as measure

    report = measure(
        store, as_of=as_of, k_min=_k_min(request), ledger=ledger(request, caller, "health")
    )
    answer: dict[str, Any] = report.to_dict()
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
