"""``/api/v1/identities``: suggested merges, merges and splits (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.models import MAX_PAGE, Page, Pair, Person, page
from knotwork.store.identity import suggest
from knotwork.store.merge import merge, split

router = APIRouter(prefix="/api/v1/identities", tags=["identities"])


@router.get("/suggestions", response_model=Page)
def suggestions(
    store: StoreDep,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> dict[str, Any]:
    """Pairs of people who may be one, most evidence first; nothing is merged."""
    return page(suggest(store, limit=offset + limit), limit=limit, offset=offset)


@router.post("/merges")
def merges(store: StoreDep, caller: Caller, pair: Pair) -> dict[str, Any]:
    """Fold ``merged`` into ``kept``."""
    return merge(store, pair.kept, pair.merged)


@router.post("/splits")
def splits(store: StoreDep, caller: Caller, body: Person) -> dict[str, Any]:
    """Undo the merges into ``person``."""
    return split(store, body.person)
