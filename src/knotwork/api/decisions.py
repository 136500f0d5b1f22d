"""``/api/v1/proposals`` and ``/api/v1/participation``: decisions that reach the people they affect.

Thin routes over :mod:`knotwork.services.decisions` and :mod:`knotwork.services.participation`.
The author of a proposal and of a response is the caller's own person; ``on_behalf_of`` is passed
to the library's hook, which refuses anyone but the caller (403). Participation per person is
individual: only admins see everyone's (members see their own in ``/api/v1/me``); analysts see
the per-group figures, suppressed under ``k_min`` members.

>>> NewResponse(choice="agree").change
True
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.market import Actor, ItemId, Limit, Offset, Ref
from knotwork.api.models import Page, Strict, page
from knotwork.api.policy import ADMIN
from knotwork.services.decisions import affected, decision, decisions, propose, respond
from knotwork.services.participation import participation as measure

router = APIRouter(prefix="/api/v1", tags=["decisions"])


class NewProposal(Strict):
    """A proposal: text, what it affects (items, groups or paths), when it closes (Unix
    seconds), its kind (after Loomio), options (vote, score, ranked) and the quorum among the
    affected (a share)."""

    text: str = Field(min_length=1, max_length=20_000)
    affects: list[Ref] = Field(min_length=1, max_length=50)
    closes: int = Field(ge=0, le=2**40)
    kind: Literal["consent", "vote", "score", "ranked"] = "consent"
    options: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    quorum: float = Field(default=0.0, ge=0.0, le=1.0)


class NewResponse(Strict):
    """The caller's answer (``agree``, an option, ``a=4,b=1`` or ``a>b``) and reason; with
    ``change`` false, a second response is refused instead of replacing the first."""

    choice: str = Field(min_length=1, max_length=500)
    reason: str = Field(default="", max_length=5_000)
    on_behalf_of: str | None = Field(
        default=None,
        min_length=1,
        max_length=320,
        description="Whom the caller answers for: only themself is accepted.",
    )
    change: bool = True


@router.post("/proposals")
def new_proposal(store: StoreDep, caller: Caller, me: Actor, body: NewProposal) -> dict[str, Any]:
    """Open a proposal by the caller; the answer is the decision as it stands."""
    made = propose(
        store,
        me,
        body.text,
        affects=body.affects,
        closes=body.closes,
        kind=body.kind,
        options=body.options,
        quorum=body.quorum,
    )
    return decision(store, made)


@router.get("/proposals", response_model=Page)
def proposals(
    store: StoreDep,
    caller: Caller,
    open: Annotated[bool, Query(description="Only the open proposals.")] = False,
    limit: Limit = 20,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Every proposal (or the open ones), newest closing date first."""
    return page(decisions(store, only_open=open), limit=limit, offset=offset)


@router.get("/proposals/{id}")
def proposal(store: StoreDep, caller: Caller, id: ItemId) -> dict[str, Any]:
    """The decision: responses, turnout among the affected, reasons and (once closed) outcome."""
    return decision(store, id)


@router.get("/proposals/{id}/affected", response_model=Page)
def affected_people(
    store: StoreDep, caller: Caller, id: ItemId, limit: Limit = 20, offset: Offset = 0
) -> dict[str, Any]:
    """Who the proposal affects, strongest first, with the evidence (opted-out people left
    out)."""
    return page(affected(store, id), limit=limit, offset=offset)


@router.post("/proposals/{id}/responses")
def responses(
    store: StoreDep, caller: Caller, me: Actor, id: ItemId, body: NewResponse
) -> dict[str, Any]:
    """Answer a proposal as the caller (a response can be changed until the close)."""
    respond(
        store, id, me, body.choice, body.reason, on_behalf_of=body.on_behalf_of, change=body.change
    )
    return decision(store, id)


@router.get("/participation")
def participation(request: Request, store: StoreDep, caller: Caller) -> dict[str, Any]:
    """Participation per group (k-anonymous); admins also get it per person."""
    from knotwork.api.aggregates import ledger

    k_min: int = request.app.state.settings.k_min
    answer = measure(store, k_min=k_min, ledger=ledger(request, caller, "participation"))
    if caller.role != ADMIN:
        del answer["people"]
    return answer


def own_participation(store: Any, person: int, k_min: int) -> dict[str, Any]:
    """One person's participation (0 of 0 when no proposal affected them)."""
    rows = measure(store, person=person, k_min=k_min)["people"]
    if rows:
        return {k: rows[0][k] for k in ("affected", "responded", "index")}
    return {"affected": 0, "responded": 0, "index": None}


__all__ = ["NewProposal", "NewResponse", "own_participation", "router"]
