"""``/groups`` and ``/dashboard``: the emergent groups with their history, and the health
dashboard (``/health`` is the server's liveness check).

Both are k-anonymous aggregates, for analysts and admins only (the rules of ``GET
/api/v1/groups`` and ``GET /api/v1/health``). The dashboard shows the same plots as the
report (:mod:`knotwork.services.report` builds the plotly figures); each figure travels as
JSON in a ``data-figure`` attribute (escaped like any text, never run as script) and
``/static/plots.js`` draws it with plotly's own JavaScript, served from the installed plotly
package at :data:`PLOTLY_URL` (no CDN: the page works offline).

>>> PLOTLY_JS.name, PLOTLY_JS.is_file()
('plotly.min.js', True)
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import plotly
from fastapi import APIRouter, Query, Request
from starlette.responses import FileResponse, Response

from knotwork.api.aggregates import groups as groups_route
from knotwork.graph.view import cached_view
from knotwork.services.groups_history import history
from knotwork.services.health import health_of_view
from knotwork.services.report import (
    groups_figure,
    growth_figure,
    lorenz_figure,
    truck_figure,
    walls_figure,
)
from knotwork.store.engine import Store
from knotwork.web.ask import day
from knotwork.web.people import names
from knotwork.web.session import page_account
from knotwork.web.templating import render

router = APIRouter(include_in_schema=False)

#: plotly's JavaScript, as the installed plotly package ships it.
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: Where the pages load it from.
PLOTLY_URL = f"/vendor/plotly-{plotly.__version__}.min.js"
#: Days between two slices of the group history.
HISTORY_DAYS = 90.0
#: Seconds a request waits for the group history before the page says it is being computed
#: (and reloads itself): on a large store the history takes a minute, in the background.
HISTORY_WAIT = 3.0

_HISTORIES: dict[tuple[Any, ...], list[dict[str, Any]] | str] = {}
_RUNNING: dict[tuple[Any, ...], threading.Thread] = {}
_HISTORY_LOCK = threading.Lock()


def _history_key(store: Store, every: float, k_min: int) -> tuple[Any, ...]:
    """What the history depends on: the store, the settings and the state of its data."""
    view = cached_view(store)
    return (store.cache_key, every, k_min, view.n_nodes, len(view.time), view.as_of)


def _compute(key: tuple[Any, ...], store: Store, every: float, k_min: int) -> None:
    try:
        found: list[dict[str, Any]] | str = [
            e.__dict__ for e in reversed(history(store, every_days=every, k_min=k_min))
        ]
    except Exception as error:  # shown on the page instead of the history
        found = f"the history could not be computed: {error}"
    with _HISTORY_LOCK:
        if len(_HISTORIES) > 16:
            _HISTORIES.clear()
        _HISTORIES[key] = found
        _RUNNING.pop(key, None)


def group_history(
    store: Store, every: float, k_min: int, *, wait: float | None = None
) -> list[dict[str, Any]] | str | None:
    """The events of the group history, newest first (a reason if it failed), computed once
    per state of the store in a background thread; None while it is still being computed.

    >>> from knotwork.graph.sample import sample_store
    >>> store = sample_store()
    >>> group_history(store, 30.0, 3)  # its two people are fewer than k_min: no group
    []
    >>> print(group_history(store, 30.0, 2))  # doctest: +ELLIPSIS
    the history could not be computed: k_min: must be at least 3 ...
    """
    key = _history_key(store, every, k_min)
    with _HISTORY_LOCK:
        if key in _HISTORIES:
            return _HISTORIES[key]
        worker = _RUNNING.get(key)
        if worker is None:
            worker = threading.Thread(
                target=_compute, args=(key, store, every, k_min), daemon=True, name="history"
            )
            _RUNNING[key] = worker
            worker.start()
    worker.join(HISTORY_WAIT if wait is None else wait)
    with _HISTORY_LOCK:
        return _HISTORIES.get(key)


@router.get(PLOTLY_URL)
def plotly_js() -> Response:
    """plotly's JavaScript from the installed package (cached: the URL names the version)."""
    return FileResponse(
        PLOTLY_JS,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


def _k_min(request: Request) -> int:
    k: int = request.app.state.settings.k_min
    return k


@router.get("/groups")
def groups_page(
    request: Request, every: Annotated[float, Query(ge=7, le=3650)] = HISTORY_DAYS
) -> Response:
    """The emergent groups (terms, paths, size, cohesion) and how they changed over time."""
    account = page_account(request, "GET", "/api/v1/groups")
    store = request.app.state.store
    found = groups_route(request, store, account)
    events = group_history(store, every, _k_min(request))
    members = [m for g in found["groups"] for m in (g.get("members") or [])]
    return render(
        request,
        "groups.html",
        result=found,
        events=events,
        every=every,
        people=names(store, members) if account.role == "admin" else {},
        day=day,
    )


def figures(report: Any, view: Any) -> list[dict[str, Any]]:
    """The dashboard's figures: name, title, whether it has data, and its plotly JSON."""
    walls = report.metric("walls_vs_work")
    chosen = [
        ("lorenz", "Who holds authority and ties", lorenz_figure(report), True),
        ("growth", "Growth", growth_figure(report), True),
        ("groups", "Group map", groups_figure(view, report.k_min), True),
        ("walls", "Walls vs work", walls_figure(report), walls.value is not None),
        ("truck", "Truck factor by area", truck_figure(report), True),
    ]
    return [
        {"name": name, "title": title, "shown": shown, "json": figure.to_json()}
        for name, title, figure, shown in chosen
    ]


@router.get("/dashboard")
def health_page(request: Request) -> Response:
    """The health dashboard: every metric explained, and the report's plots."""
    page_account(request, "GET", "/api/v1/health")
    store = request.app.state.store
    view = cached_view(store)
    report = health_of_view(view, k_min=_k_min(request))
    return render(
        request,
        "health.html",
        report=report,
        figures=figures(report, view),
        walls=report.metric("walls_vs_work"),
        plotly_url=PLOTLY_URL,
        day=day,
    )


__all__ = ["HISTORY_DAYS", "PLOTLY_JS", "PLOTLY_URL", "figures", "group_history", "router"]
