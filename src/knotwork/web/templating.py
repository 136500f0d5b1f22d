"""Jinja2 templates of the web app, autoescaped: every user-provided string is escaped.

>>> from knotwork.web.templating import templates
>>> templates.env.from_string("{{ name }}").render(name="<script>x</script>")
'&lt;script&gt;x&lt;/script&gt;'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import Response

HERE = Path(__file__).parent
#: Where the build step (``make``) puts the compiled scripts and styles of the islands.
STATIC = HERE / "static"

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
)


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """The page ``template`` rendered with ``context`` (plus the visitor as ``user``, if any)."""
    context.setdefault("user", getattr(request.state, "account", None))
    return templates.TemplateResponse(request, template, context, status_code=status)


__all__ = ["STATIC", "render", "templates"]
