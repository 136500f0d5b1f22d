"""``/graph``: the interactive map of who works with whom (WebGL, sigma.js).

The page is a frame of accessible controls; its island (``frontend/src/graph.ts``) loads the
map from ``GET /api/v1/graph`` with the visitor's session, so the page is authorised by that
route's rule and shows what the API shows to the visitor's role.

>>> from knotwork.web.graph import router
>>> [route.path for route in router.routes]
['/graph']
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from knotwork.web.session import page_account
from knotwork.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/graph")
def graph_page(request: Request) -> Response:
    """The map's frame: filters, zoom buttons, the canvas, the focus panel, the legend."""
    account = page_account(request, "GET", "/api/v1/graph")
    return render(request, "graph.html", admin=account.role == "admin")


__all__ = ["graph_page", "router"]
