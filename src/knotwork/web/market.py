"""``/market``: post needs and offers, see their matches, mark them fulfilled or withdrawn.

Every form posts to a page route that calls the API's own route function (so the rules are the
API's: the author is the visitor's own person, only the owner closes an item), then redirects
to a page (POST, redirect, GET). ``/market/needs/{id}`` shows the people who match a need, with
the reasons; ``/market/offers/{id}`` the open needs that match an offer.

>>> from knotwork.web.market import router
>>> sorted({route.path for route in router.routes})[:3]
['/market', '/market/needs', '/market/needs/{id}']
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from knotwork.api.market import (
    Closing,
    ItemId,
    NewNeed,
    NewOffer,
    actor,
    close_need,
    close_offer,
    need_matches,
    new_need,
    new_offer,
    offer_matches,
)
from knotwork.errors import KnotworkError, NotFoundError
from knotwork.services.market import open_items, remaining
from knotwork.services.native import node, owner, state
from knotwork.store import schema
from knotwork.store.accounts import Account
from knotwork.store.engine import Store
from knotwork.web.ask import day
from knotwork.web.people import names
from knotwork.web.session import page_account
from knotwork.web.templating import render

router = APIRouter(include_in_schema=False)

#: How many open needs and offers the market page lists, and matches an item page shows.
LISTED = 30
MATCHES = 10
DAY = 86_400


def my_items(store: Store, person: int) -> list[dict[str, Any]]:
    """The needs and offers ``person`` posted, whatever their state, newest first."""
    links, nodes = schema.links, schema.nodes
    with store.connect() as connection:
        ids = connection.execute(
            select(links.c.dst)
            .join(nodes, nodes.c.id == links.c.dst)
            .where(
                links.c.src == person,
                links.c.kind.in_(["needs", "offers"]),
                nodes.c.kind.in_(["need", "offer"]),
            )
            .distinct()
        ).scalars()
        found = [node(store, int(i)) for i in ids]
    mine = [f for f in found if owner(store, f["id"]) == person]
    for item in mine:
        item["state"] = state(store, item["id"])
        if item["kind"] == "offer":
            item["remaining"] = remaining(store, item["id"])
    return sorted(mine, key=lambda i: -(i["time"] or 0))


def _market(request: Request, account: Account, problem: str | None, status: int) -> Response:
    store = request.app.state.store
    needs, offers = open_items(store, "need")[:LISTED], open_items(store, "offer")[:LISTED]
    mine = my_items(store, account.person) if account.person is not None else []
    people = names(store, [i.get("owner") for i in needs + offers])
    return render(
        request,
        "market.html",
        status=status,
        needs=needs,
        offers=offers,
        mine=mine,
        people=people,
        problem=problem,
        can_post=account.person is not None,
        day=day,
    )


@router.get("/market")
def market_page(request: Request) -> Response:
    """Open needs and offers, mine with their states, and the forms to post new ones."""
    account = page_account(request, "GET", "/api/v1/needs")
    return _market(request, account, None, 200)


def problem_of(error: Exception) -> str:
    """A one-line reason for a refused form (a validation error or a Knotwork error).

    >>> problem_of(ValueError("the text is empty"))
    'the text is empty'
    """
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(error)


@router.post("/market/needs")
def post_need(
    request: Request,
    text: Annotated[str, Form(max_length=20_000)],
    days: Annotated[int, Form(ge=0, le=3650)] = 0,
) -> Response:
    """Declare a need of the visitor's own person; then show its matches."""
    account = page_account(request, "POST", "/api/v1/needs")
    store = request.app.state.store
    me = actor(store, account)
    try:
        until = int(time.time()) + days * DAY if days else None
        body = NewNeed(text=text.strip(), until=until)
        made = new_need(store, account, me, body)
    except (ValidationError, KnotworkError) as error:
        return _market(request, account, problem_of(error), 422)
    return RedirectResponse(f"/market/needs/{made['id']}", status_code=303)


@router.post("/market/offers")
def post_offer(
    request: Request,
    text: Annotated[str, Form(max_length=20_000)],
    capacity: Annotated[str, Form(max_length=40)] = "1h/week",
) -> Response:
    """Offer spare capacity of the visitor's own person; then show the needs it matches."""
    account = page_account(request, "POST", "/api/v1/offers")
    store = request.app.state.store
    me = actor(store, account)
    try:
        body = NewOffer(text=text.strip(), capacity=capacity.strip() or "1h/week")
        made = new_offer(store, account, me, body)
    except (ValidationError, KnotworkError) as error:
        return _market(request, account, problem_of(error), 422)
    return RedirectResponse(f"/market/offers/{made['id']}", status_code=303)


def _item(request: Request, id: int, kind: str) -> Response:
    path = f"/api/v1/{kind}s/{{id}}/matches"
    account = page_account(request, "GET", path)
    store = request.app.state.store
    found = node(store, id)
    if found["kind"] != kind:
        raise NotFoundError(f"no {kind} has this id", place=str(id))
    route = need_matches if kind == "need" else offer_matches
    matches = route(store, account, id, limit=MATCHES, offset=0)["items"]
    found["owner"], found["state"] = owner(store, id), state(store, id)
    if kind == "offer":
        found["remaining"] = remaining(store, id)
    who = names(
        store,
        [found["owner"]] + [m.get("person") for m in matches] + [m.get("owner") for m in matches],
    )
    return render(
        request,
        "market_item.html",
        item=found,
        kind=kind,
        matches=matches,
        people=who,
        mine=account.person is not None and account.person == found["owner"],
        day=day,
    )


@router.get("/market/needs/{id}")
def need_page(request: Request, id: ItemId) -> Response:
    """A need and the people who match it, with the reasons."""
    return _item(request, id, "need")


@router.get("/market/offers/{id}")
def offer_page(request: Request, id: ItemId) -> Response:
    """An offer and the open needs it matches."""
    return _item(request, id, "offer")


@router.post("/market/{kind}/{id}/close")
def close_item(
    request: Request,
    kind: Literal["needs", "offers"],
    id: ItemId,
    new_state: Annotated[Literal["fulfilled", "withdrawn"], Form(alias="state")],
) -> Response:
    """Mark the visitor's own need or offer fulfilled or withdrawn."""
    account = page_account(request, "POST", f"/api/v1/{kind}/{{id}}/close")
    store = request.app.state.store
    me = actor(store, account)
    route = close_need if kind == "needs" else close_offer
    route(store, account, me, id, Closing(state=new_state))
    return RedirectResponse("/market#mine", status_code=303)


__all__ = ["LISTED", "MATCHES", "my_items", "problem_of", "router"]
