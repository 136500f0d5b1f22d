"""Who is looking at a page: the session cookie, checked against the API's policy table.

A visitor logs in with their API token (``knotwork users add`` prints it); the token is kept
in an HttpOnly, SameSite=Strict cookie, so the page scripts call the API with the same
account and never see the token. Pages name the API route whose data they show:

>>> from knotwork.api.policy import POLICY
>>> ("GET", "/api/v1/people/{id}") in POLICY
True
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException, Request
from starlette.responses import RedirectResponse

from knotwork.api.auth import SESSION_COOKIE, authenticate, authorize
from knotwork.store.accounts import Account


class LoginRequired(Exception):
    """The page needs a logged-in visitor; answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def page_account(request: Request, method: str, path: str, person: object = None) -> Account:
    """The visitor, allowed by the policy rule of the API route ``(method, path)``.

    No or a bad session: :class:`LoginRequired`; a role the rule excludes: 403 (shown as a
    page). The account is also kept on ``request.state`` for the templates.
    """
    try:
        found = authenticate(request)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise LoginRequired(request.url.path) from exc
        raise
    request.state.account = found
    authorize(found, method, path, person)
    return found


def visitor(request: Request) -> Account | None:
    """The logged-in visitor, if any, without any rule (for the navigation)."""
    try:
        found = authenticate(request)
    except HTTPException:
        return None
    request.state.account = found
    return found


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    """Where a :class:`LoginRequired` sends the browser."""
    return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)


def set_session(response: RedirectResponse, token: str) -> None:
    """Keep ``token`` in the session cookie (HttpOnly, SameSite=Strict, 12 hours)."""
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", max_age=12 * 3600, path="/"
    )


__all__ = [
    "LoginRequired",
    "login_redirect",
    "page_account",
    "set_session",
    "visitor",
]
