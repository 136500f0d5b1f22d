"""``/decisions``: open proposals, who each affects and why, responses and outcomes.

The pages call the API's route functions (:mod:`knotwork.api.decisions`), so the author of a
proposal or a response is always the visitor's own person, and the affected people leave out
those who opted out. A response is ``agree``, ``abstain``, ``disagree`` or ``block`` (consent)
or one of the proposal's options, with a reason; it can be changed until the proposal closes.

>>> from knotwork.web.decisions import router
>>> sorted({route.path for route in router.routes})
['/decisions', '/decisions/{id}', '/decisions/{id}/responses']
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from knotwork.api.decisions import (
    NewProposal,
    NewResponse,
    affected_people,
    new_proposal,
    proposal,
    proposals,
    responses,
)
from knotwork.api.market import ItemId, actor
from knotwork.errors import KnotworkError
from knotwork.services.decisions import history
from knotwork.services.decisions_rules import options_for
from knotwork.services.native import node
from knotwork.store import schema
from knotwork.store.accounts import Account
from knotwork.store.engine import Store
from knotwork.web.ask import day
from knotwork.web.market import problem_of
from knotwork.web.people import names
from knotwork.web.session import page_account
from knotwork.web.templating import render

router = APIRouter(include_in_schema=False)

#: How many proposals and affected people a page lists.
LISTED = 50
DAY = 86_400


def readable(store: Store, evidence: list[str]) -> list[str]:
    """The evidence lines of an affected person, with items named by their title.

    >>> from knotwork.graph.sample import sample_store
    >>> readable(sample_store(), ["works on drivers/net/ice/ice_main.c", "member of net"])
    ['works on drivers/net/ice/ice_main.c', 'member of net']
    """
    prefix = "works on "
    keys = [e[len(prefix) :] for e in evidence if e.startswith(prefix)]
    nodes = schema.nodes
    with store.connect() as connection:
        titles = dict(
            connection.execute(
                select(nodes.c.key, nodes.c.name).where(nodes.c.key.in_(keys[:900]))
            ).all()
        )
    return [
        prefix + str(titles.get(e[len(prefix) :]) or e[len(prefix) :])
        if e.startswith(prefix)
        else e
        for e in evidence
    ]


def _list(request: Request, account: Account, problem: str | None, status: int) -> Response:
    store = request.app.state.store
    found = proposals(store, account, open=False, limit=LISTED, offset=0)["items"]
    return render(
        request,
        "decisions.html",
        status=status,
        open=[p for p in found if p["status"] == "open"],
        closed=[p for p in found if p["status"] != "open"],
        problem=problem,
        can_post=account.person is not None,
        day=day,
    )


@router.get("/decisions")
def decisions_page(request: Request) -> Response:
    """Open and closed proposals, and the form to make one."""
    account = page_account(request, "GET", "/api/v1/proposals")
    return _list(request, account, None, 200)


@router.post("/decisions")
def propose_page(
    request: Request,
    text: Annotated[str, Form(max_length=20_000)],
    affects: Annotated[str, Form(max_length=5_000)],
    days: Annotated[int, Form(ge=1, le=365)] = 7,
) -> Response:
    """Open a consent proposal by the visitor's own person; then show it."""
    account = page_account(request, "POST", "/api/v1/proposals")
    store = request.app.state.store
    me = actor(store, account)
    targets = [a.strip() for a in affects.replace("\n", ",").split(",") if a.strip()]
    try:
        body = NewProposal(text=text.strip(), affects=targets, closes=int(time.time()) + days * DAY)
        made = new_proposal(store, account, me, body)
    except (ValidationError, KnotworkError) as error:
        return _list(request, account, problem_of(error), 422)
    return RedirectResponse(f"/decisions/{made['id']}", status_code=303)


def _detail(
    request: Request, account: Account, id: int, problem: str | None, status: int
) -> Response:
    store = request.app.state.store
    summary = proposal(store, account, id)
    found = node(store, id)
    people = affected_people(store, account, id, limit=LISTED, offset=0)
    for row in people["items"]:
        row["evidence"] = readable(store, row["evidence"])
    answers = history(store, id).get(account.person, []) if account.person is not None else []
    who = names(
        store,
        [summary["author"]]
        + [p["person"] for p in people["items"]]
        + [r["person"] for r in summary["reasons"]],
    )
    return render(
        request,
        "decision.html",
        status=status,
        d=summary,
        title=found["name"],
        options=options_for(summary["kind"], found["attrs"].get("options", [])),
        affected=people,
        mine=answers[-1] if answers else None,
        me_affected=any(p["person"] == account.person for p in people["items"]),
        people=who,
        problem=problem,
        can_respond=account.person is not None and summary["status"] == "open",
        day=day,
    )


@router.get("/decisions/{id}")
def decision_page(request: Request, id: ItemId) -> Response:
    """A proposal: who it affects and why, the responses with reasons, and the outcome."""
    account = page_account(request, "GET", "/api/v1/proposals/{id}")
    return _detail(request, account, id, None, 200)


@router.post("/decisions/{id}/responses")
def respond_page(
    request: Request,
    id: ItemId,
    choice: Annotated[str, Form(max_length=500)],
    reason: Annotated[str, Form(max_length=5_000)] = "",
) -> Response:
    """Answer a proposal as the visitor (a new answer replaces the previous one)."""
    account = page_account(request, "POST", "/api/v1/proposals/{id}/responses")
    store = request.app.state.store
    me = actor(store, account)
    try:
        responses(store, account, me, id, NewResponse(choice=choice, reason=reason.strip()))
    except (ValidationError, KnotworkError) as error:
        return _detail(request, account, id, problem_of(error), 422)
    return RedirectResponse(f"/decisions/{id}#responded", status_code=303)


__all__ = ["LISTED", "readable", "router"]
