"""``/login`` and ``/logout``: the session of the web app (a token kept in a cookie)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from knotwork.api.auth import SESSION_COOKIE
from knotwork.store.accounts import check_token
from knotwork.web.session import set_session, visitor
from knotwork.web.templating import render

router = APIRouter(include_in_schema=False)


def local_path(path: str | None) -> str:
    """``path`` if it is a path on this site, else ``/`` (no open redirects).

    >>> local_path("/people/3"), local_path("//evil.example/x"), local_path("https://x")
    ('/people/3', '/', '/')
    """
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


@router.get("/")
def home(request: Request) -> Response:
    """The start page: the search box for a visitor, the login page otherwise."""
    if visitor(request) is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/ask", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    """The login form: paste the token that ``knotwork users add`` printed."""
    return render(request, "login.html", next=local_path(next), problem=None)


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the token and keep it in the session cookie."""
    state = request.app.state
    client = request.client.host if request.client else "-"
    now = time.monotonic()
    if state.failed.over(client, now=now):
        return render(
            request,
            "login.html",
            status=429,
            next=local_path(next),
            problem="Too many failed attempts; wait a minute.",
        )
    if check_token(state.store, token.strip(), key=state.key) is None:
        state.failed.hit(client, now=now)
        return render(
            request,
            "login.html",
            status=401,
            next=local_path(next),
            problem="This token is unknown, expired or revoked.",
        )
    response = RedirectResponse(local_path(next), status_code=303)
    set_session(response, token.strip())
    return response


@router.post("/logout")
def logout() -> Response:
    """Forget the session."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


__all__ = ["local_path", "router"]
