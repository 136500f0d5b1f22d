"""``/api/v1/me`` and ``/api/v1/me/export``: everything about the caller, and how it is computed.

``/api/v1/me`` answers the three questions of a learning organisation for the caller
(``questions``: what I need to know, whom I owe information, with whom to communicate) and gives
the caller's own participation index (decisions taken part in over those that affected them).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.decisions import own_participation
from knotwork.errors import NotFoundError
from knotwork.store.erase import person_key
from knotwork.store.identity import profile

router = APIRouter(prefix="/api/v1/me", tags=["me"])

#: The three questions, unanswered (a person with no activity in the graph yet).
QUESTIONS: dict[str, Any] = {"need_to_know": {"needs": [], "items": []}, "owe": [], "talk_to": []}

#: How each score is computed, in words (the export carries it next to the numbers).
METHODS = {
    "authority": "PageRank (damping 0.85) over people and items; items pass credit to their "
    "authors; links decay with age (half-life 365 days).",
    "expertise": "personalized PageRank from the items matching a question (BM25 and paths).",
    "network": "ties: people you worked with on the same items; core number (k-core); "
    "brokerage: Burt's constraint.",
    "questions": "need to know: open needs and recent items near my work I have not touched; "
    "owe: people who work on what I recently changed, with no exchange about it; talk to: "
    "people near my recent items by personalized PageRank, not yet direct ties.",
    "participation": "decisions I responded to / decisions whose affected people include me.",
    "privacy": "aggregates over fewer than k_min people are never released; only you and "
    "admins see these figures.",
}


def _metrics(request: Request, store: Any, person: int) -> dict[str, Any]:
    try:
        from knotwork.services.me import me as mine

    except ImportError:  # the service is not there yet
        return {}
    try:
        result: dict[str, Any] = mine(
            store, person_key(store, person), k_min=request.app.state.settings.k_min
        )
    except NotFoundError:  # no activity in the graph
        return {}
    return result


@router.get("")
def me(request: Request, store: StoreDep, caller: Caller) -> dict[str, Any]:
    """The caller's account and, when they are in the graph, their own metrics."""
    answer: dict[str, Any] = {"alias": caller.alias, "role": caller.role, "person": caller.person}
    if caller.person is not None:
        answer["metrics"] = _metrics(request, store, caller.person)
        answer["questions"] = answer["metrics"].pop("questions", None) or QUESTIONS
        answer["participation"] = own_participation(
            store, caller.person, request.app.state.settings.k_min
        )
    return answer


@router.get("/export")
def export(request: Request, store: StoreDep, caller: Caller) -> dict[str, Any]:
    """Everything about the caller: account, profile, metrics, and how they are computed."""
    answer = me(request, store, caller)
    if caller.person is not None:
        answer["profile"] = profile(store, caller.person, limit=1000)
    answer["methods"] = METHODS
    return answer
