"""Mount the web app on the API's FastAPI application.

Each page module of :data:`PAGES` that exists exposes ``router``; static files (the built
scripts of the islands and the style sheet) are served under ``/static``.

>>> from fastapi.testclient import TestClient
>>> from knotwork.api import create_app
>>> from knotwork.config import Settings
>>> client = TestClient(create_app(Settings(database_url="sqlite://"), key=b"k"))
>>> client.get("/", follow_redirects=False).headers["location"]
'/login'
"""

from __future__ import annotations

import importlib
import importlib.util

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from knotwork.web.session import LoginRequired, login_redirect
from knotwork.web.templating import STATIC, render

#: The page modules under ``knotwork.web``, in the order of the navigation.
PAGES = ("login", "ask", "graph", "people", "groups", "market", "decisions", "admin")


def error_page(request: Request, status: int, name: str, reason: str) -> Response:
    """An error on a page route, as a page (the API answers the same error as JSON)."""
    return render(
        request, "error.html", status=status, status_code=status, name=name, reason=reason
    )


def mount_web(app: FastAPI) -> None:
    """Add the pages, the static files and the page error handlers to ``app``."""
    for name in PAGES:
        module_name = f"knotwork.web.{name}"
        if importlib.util.find_spec(module_name) is not None:
            app.include_router(importlib.import_module(module_name).router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    app.state.error_page = error_page

    async def to_login(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return login_redirect(exc)

    app.add_exception_handler(LoginRequired, to_login)


__all__ = ["PAGES", "error_page", "mount_web"]
