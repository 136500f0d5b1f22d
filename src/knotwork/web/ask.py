"""``/ask``: one search box for who knows about a topic or a path, with the evidence.

The page answers through the API's own route function (:func:`knotwork.api.ask.who_knows`),
so it ranks with the same service and applies the same privacy rules: the visitor must be
allowed ``GET /api/v1/who-knows``, opted-out people are left out and only admins see scores.

>>> from knotwork.web.ask import router
>>> [route.path for route in router.routes]
['/ask']
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from knotwork.api.ask import who_knows
from knotwork.errors import InputError
from knotwork.web.session import page_account
from knotwork.web.templating import render

router = APIRouter(include_in_schema=False)

#: How many people a page of answers shows.
LIMIT = 10


def day(moment: int | None) -> str:
    """A Unix time as a calendar day (UTC), or an empty string.

    >>> day(1_600_000_000), day(None)
    ('2020-09-13', '')
    """
    return "" if moment is None else datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d")


@router.get("/ask")
def ask_page(
    request: Request,
    q: Annotated[str, Query(max_length=500)] = "",
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response:
    """The search box, and the people who know about ``q`` with their evidence."""
    account = page_account(request, "GET", "/api/v1/who-knows")
    question = q.strip()
    answer: dict[str, Any] | None = None
    problem = None
    took = 0.0
    if question:
        started = time.perf_counter()
        store = request.app.state.store
        try:
            found = who_knows(request, store, account, q=question, limit=LIMIT + 1, offset=offset)
            items = found["items"]
            answer = {"items": items[:LIMIT], "more": len(items) > LIMIT}
        except InputError as exc:
            problem = str(exc)
        took = time.perf_counter() - started
    return render(
        request,
        "ask.html",
        q=question,
        answer=answer,
        problem=problem,
        offset=offset,
        limit=LIMIT,
        took_ms=round(took * 1000),
        day=day,
        admin=account.role == "admin",
    )


__all__ = ["LIMIT", "ask_page", "day", "router"]
