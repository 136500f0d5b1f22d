"""``/api/v1/posts``, ``/api/v1/needs``, ``/api/v1/offers``: the native platform's market.

Thin routes over :mod:`knotwork.services.native` and :mod:`knotwork.services.market`. The actor
of every write is the caller's own person (:data:`Actor`), never a field of the body; a caller
whose account names no person in the graph gets 403, and so does a member acting on what they
do not own (the library's :class:`~knotwork.services.native.AuthorisationError`).

>>> NewOffer(text="Review DPDK ice patches", capacity="4h/week").capacity
'4h/week'
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.models import MAX_PAGE, Page, Strict, page
from knotwork.errors import NotFoundError
from knotwork.services.market import commit, match, match_offer, open_items, remaining
from knotwork.services.native import AuthorisationError, need, node, offer, post, set_state, state
from knotwork.store.erase import person_key

#: A node id: a 63-bit hash.
ItemId = Annotated[int, Path(ge=0, le=2**63 - 1, description="The item's node id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page (at most 100).")]
Offset = Annotated[int, Query(ge=0, le=10_000)]
#: Unix seconds.
Moment = Annotated[int | None, Field(ge=0, le=2**40, description="Unix seconds.")]
#: An item reference: an id, a key or a path.
Ref = Annotated[str, Field(min_length=1, max_length=500)]


def actor(store: StoreDep, caller: Caller) -> str:
    """The key of the caller's own person: the actor of every write (403 when there is none)."""
    if caller.person is None:
        raise AuthorisationError(
            "your account is not linked to a person in the graph", place="Authorization"
        )
    return person_key(store, caller.person)


#: The caller's own person key, for routes that write as the caller.
Actor = Annotated[str, Depends(actor)]


class NewPost(Strict):
    """A work item to publish: text, what it cites (item ids, keys or paths), a purpose."""

    text: str = Field(min_length=1, max_length=20_000)
    cites: list[Ref] = Field(default_factory=list, max_length=50)
    purpose: str | None = Field(default=None, min_length=1, max_length=200)


class NewNeed(Strict):
    """What the caller needs, open until ``until`` (Unix seconds), citing items."""

    text: str = Field(min_length=1, max_length=20_000)
    until: Moment = None
    cites: list[Ref] = Field(default_factory=list, max_length=50)


class NewOffer(Strict):
    """Spare capacity the caller offers: text and hours per week (``4h/week``, ``1d/week``)."""

    text: str = Field(min_length=1, max_length=20_000)
    capacity: str = Field(default="1h/week", min_length=1, max_length=40)
    until: Moment = None


class Commitment(Strict):
    """Hours per week of an offer committed to the need ``need``."""

    need: int = Field(ge=0, le=2**63 - 1)
    hours: float = Field(gt=0, le=168)


class Closing(Strict):
    """The new state of a need or offer (only its owner may set it)."""

    state: Literal["fulfilled", "withdrawn"]


router = APIRouter(prefix="/api/v1", tags=["market"])


def _of_kind(store: StoreDep, item: int, kind: str) -> dict[str, Any]:
    found = node(store, item)
    if found["kind"] != kind:
        raise NotFoundError(f"no {kind} has this id", place=str(item))
    return found


def _listed(store: StoreDep, kind: str, limit: int, offset: int) -> dict[str, Any]:
    return page(open_items(store, kind), limit=limit, offset=offset)


@router.post("/posts")
def new_post(store: StoreDep, caller: Caller, me: Actor, body: NewPost) -> dict[str, Any]:
    """Publish a post by the caller, citing items; it counts in authority and expertise."""
    found = node(store, post(store, me, body.text, cites=body.cites, purpose=body.purpose))
    found["owner"] = caller.person
    return found


@router.get("/posts", response_model=Page)
def posts(store: StoreDep, caller: Caller, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    """Posts, newest first, with their authors."""
    return _listed(store, "post", limit, offset)


@router.post("/needs")
def new_need(store: StoreDep, caller: Caller, me: Actor, body: NewNeed) -> dict[str, Any]:
    """Declare what the caller needs ("What information do I need?")."""
    found = node(store, need(store, me, body.text, until=body.until, cites=body.cites))
    found["owner"], found["state"] = caller.person, "open"
    return found


@router.get("/needs", response_model=Page)
def needs(store: StoreDep, caller: Caller, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    """Open needs, newest first."""
    return _listed(store, "need", limit, offset)


@router.post("/offers")
def new_offer(store: StoreDep, caller: Caller, me: Actor, body: NewOffer) -> dict[str, Any]:
    """Offer the caller's spare capacity (hours per week)."""
    made = offer(store, me, body.text, capacity=body.capacity, until=body.until)
    found = node(store, made)
    found["owner"], found["state"], found["remaining"] = (
        caller.person,
        "open",
        remaining(store, made),
    )
    return found


@router.get("/offers", response_model=Page)
def offers(
    store: StoreDep, caller: Caller, limit: Limit = 20, offset: Offset = 0
) -> dict[str, Any]:
    """Open offers, newest first."""
    return _listed(store, "offer", limit, offset)


@router.get("/needs/{id}/matches", response_model=Page)
def need_matches(
    store: StoreDep, caller: Caller, id: ItemId, limit: Limit = 10, offset: Offset = 0
) -> dict[str, Any]:
    """People ranked for a need (text, graph proximity, authority, capacity), with reasons."""
    _of_kind(store, id, "need")
    return page(match(store, id, limit=offset + limit), limit=limit, offset=offset)


@router.get("/offers/{id}/matches", response_model=Page)
def offer_matches(
    store: StoreDep, caller: Caller, id: ItemId, limit: Limit = 10, offset: Offset = 0
) -> dict[str, Any]:
    """Open needs ranked for an offer by text relevance, with reasons."""
    _of_kind(store, id, "offer")
    return page(match_offer(store, id, limit=offset + limit), limit=limit, offset=offset)


@router.post("/offers/{id}/commitments")
def commitments(
    store: StoreDep, caller: Caller, me: Actor, id: ItemId, body: Commitment
) -> dict[str, Any]:
    """Commit hours of the caller's offer to a need; an offer is never oversubscribed."""
    _of_kind(store, id, "offer")
    left = commit(store, me, id, body.need, hours=body.hours)
    return {"offer": id, "need": body.need, "hours": body.hours, "remaining": left}


def _close(store: StoreDep, me: str, item: int, kind: str, new_state: str) -> dict[str, Any]:
    _of_kind(store, item, kind)
    set_state(store, me, item, new_state)
    return {"id": item, "kind": kind, "state": state(store, item)}


@router.post("/needs/{id}/close")
def close_need(
    store: StoreDep, caller: Caller, me: Actor, id: ItemId, body: Closing
) -> dict[str, Any]:
    """Mark the caller's need fulfilled or withdrawn."""
    return _close(store, me, id, "need", body.state)


@router.post("/offers/{id}/close")
def close_offer(
    store: StoreDep, caller: Caller, me: Actor, id: ItemId, body: Closing
) -> dict[str, Any]:
    """Mark the caller's offer fulfilled or withdrawn."""
    return _close(store, me, id, "offer", body.state)


__all__ = [
    "Actor",
    "Closing",
    "Commitment",
    "ItemId",
    "NewNeed",
    "NewOffer",
    "NewPost",
    "actor",
    "router",
]
