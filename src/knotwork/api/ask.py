"""``/api/v1/who-knows``, ``/api/v1/explain/{id}``, ``/api/v1/top/{people|items}``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.models import MAX_PAGE, Page, PersonId, page
from knotwork.api.policy import ADMIN
from knotwork.model import NodeKind
from knotwork.services.authority import top_items, top_people
from knotwork.services.expertise import explain as explain_person
from knotwork.services.expertise import who_knows as ask
from knotwork.store.erase import person_key

#: The kinds of work items, for ``/top/items?kind=``.
ItemKind = StrEnum(  # type: ignore[misc]
    "ItemKind", {k.value: k.value for k in NodeKind if k.family == "item"}
)
router = APIRouter(prefix="/api/v1", tags=["ask"])
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page (at most 100).")]
Offset = Annotated[int, Query(ge=0, le=10_000)]
AsOf = Annotated[int | None, Query(ge=0, le=2**40, description="Unix seconds.")]


def _question(request: Request, q: str) -> str:
    limit: int = request.app.state.limits.max_query
    if len(q) > limit:
        from knotwork.errors import InputError

        raise InputError(f"the query is longer than {limit} characters", place="q")
    return q


@router.get("/who-knows", response_model=Page)
def who_knows(
    request: Request,
    store: StoreDep,
    caller: Caller,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Free text or paths.")],
    limit: Limit = 10,
    offset: Offset = 0,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Who knows about ``q``: people ranked by personalized PageRank, with evidence. Only
    admins see scores; opted-out people are left out."""
    answer = ask(store, _question(request, q), limit=min(offset + limit, 1000), as_of=as_of)
    rows = []
    for expert in answer.to_dict()["experts"]:
        if caller.role != ADMIN:
            expert.pop("score", None)
        rows.append(expert)
    return page(rows, limit=limit, offset=offset)


@router.get("/explain/{id}")
def explain(
    request: Request,
    store: StoreDep,
    caller: Caller,
    id: PersonId,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Why person ``id`` ranks where they do for ``q`` (own person, or admin)."""
    return explain_person(store, person_key(store, id), _question(request, q), as_of=as_of)


@router.get("/top/people", response_model=Page)
def people(
    store: StoreDep, caller: Caller, limit: Limit = 20, offset: Offset = 0, as_of: AsOf = None
) -> dict[str, Any]:
    """The people with the highest authority (analysts and admins)."""
    rows = top_people(store, limit=offset + limit, as_of=as_of)
    return page(rows, limit=limit, offset=offset)


@router.get("/top/items", response_model=Page)
def items(
    store: StoreDep,
    caller: Caller,
    kind: ItemKind | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """The work items (of ``kind``) with the highest authority."""
    rows = top_items(store, kind=kind.value if kind else None, limit=offset + limit, as_of=as_of)
    return page(rows, limit=limit, offset=offset)
