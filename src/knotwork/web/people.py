"""``/me`` and ``/people/{id}``: my own page, and a person's profile as the privacy rules allow.

``/me`` shows what ``GET /api/v1/me`` answers (the same route function): my collaborators, my
areas, my network figures, the three questions, my participation in decisions, a link to my
data export (``/api/v1/me/export``) and the opt-out form. ``/people/{id}`` is authorised by the
rule of ``GET /api/v1/people/{id}``: members and analysts see their own person only, admins
everyone (another member's page is a 403 page).

>>> from knotwork.web.people import router
>>> sorted(route.path for route in router.routes)
['/me', '/me/opt-out', '/people/{id}']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from knotwork.api.me import me as my_data
from knotwork.api.models import PersonId
from knotwork.api.people import person as person_route
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.erase import opt_out, opted_out, person_key
from knotwork.store.identity import profile
from knotwork.web.ask import day
from knotwork.web.session import page_account
from knotwork.web.templating import render

router = APIRouter(include_in_schema=False)

#: How many collaborators and files a page lists.
LIMIT = 15


def names(store: Store, ids: Iterable[int | None]) -> dict[int, str]:
    """The display name (else the key) of each node of ``ids`` found in ``store``.

    >>> from knotwork.graph.sample import sample_store
    >>> from knotwork.store.identity import resolve
    >>> store = sample_store()
    >>> names(store, [resolve(store, "ada@example.org"), None])[resolve(store, "ada@example.org")]
    'Ada Lovelace'
    """
    wanted = sorted({int(i) for i in ids if i is not None})
    found: dict[int, str] = {}
    nodes = schema.nodes
    with store.connect() as connection:
        for start in range(0, len(wanted), 900):
            rows = connection.execute(
                select(nodes.c.id, nodes.c.key, nodes.c.name).where(
                    nodes.c.id.in_(wanted[start : start + 900])
                )
            ).all()
            found.update((int(r.id), str(r.name or r.key)) for r in rows)
    return found


def ids_of_keys(store: Store, keys: Iterable[str]) -> dict[str, tuple[int, str]]:
    """``{key: (id, display name)}`` of the people with these keys."""
    wanted = sorted(set(keys))
    nodes = schema.nodes
    found: dict[str, tuple[int, str]] = {}
    with store.connect() as connection:
        for start in range(0, len(wanted), 900):
            rows = connection.execute(
                select(nodes.c.id, nodes.c.key, nodes.c.name).where(
                    nodes.c.kind == "person", nodes.c.key.in_(wanted[start : start + 900])
                )
            ).all()
            found.update((str(r.key), (int(r.id), str(r.name or r.key))) for r in rows)
    return found


def _named_rows(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Co-worker rows (``key``, ``count``) with the person's id and name, for links."""
    known = ids_of_keys(store, (r["key"] for r in rows))
    named = []
    for row in rows:
        person, name = known.get(row["key"], (None, row["key"]))
        named.append({**row, "id": person, "name": name})
    return named


@router.get("/me")
def me_page(request: Request) -> Response:
    """My own page: collaborators, areas, figures, participation, export and opt-out."""
    account = page_account(request, "GET", "/api/v1/me")
    store = request.app.state.store
    data = my_data(request, store, account)
    mine = None
    out = False
    if account.person is not None:
        mine = profile(store, account.person, limit=LIMIT)
        mine["coworkers"] = _named_rows(store, mine["coworkers"])
        out = account.person in opted_out(store)
    questions = data.get("questions") or {}
    talk = [r for r in questions.get("talk_to", []) + questions.get("owe", []) if "person" in r]
    return render(
        request,
        "me.html",
        data=data,
        profile=mine,
        opted_out=out,
        people=names(store, (r["person"] for r in talk)),
        day=day,
    )


@router.post("/me/opt-out")
def me_opt_out(
    request: Request, choice: Annotated[str, Form(pattern="^(out|in)$")] = "out"
) -> Response:
    """Opt my own person out of (or back into) everyone else's results."""
    account = page_account(request, "GET", "/api/v1/me")
    store = request.app.state.store
    if account.person is not None:
        opt_out(store, person_key(store, account.person), out=choice == "out")
    return RedirectResponse("/me", status_code=303)


@router.get("/people/{id}")
def person_page(request: Request, id: PersonId) -> Response:
    """A person's profile, as ``GET /api/v1/people/{id}`` allows the visitor to see it."""
    account = page_account(request, "GET", "/api/v1/people/{id}", id)
    store = request.app.state.store
    found = person_route(store, account, id)
    found["coworkers"] = _named_rows(store, found["coworkers"])
    return render(request, "person.html", person=found, own=account.person == id, day=day)


__all__ = ["LIMIT", "ids_of_keys", "names", "router"]
