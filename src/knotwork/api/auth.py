"""Authentication and authorisation of every route but ``/health``.

A request carries ``Authorization: Bearer <token>`` (or, from the web app, the same token in
the session cookie); the token's keyed hash is looked up
(:func:`knotwork.store.accounts.check_token`). Missing, unknown, expired or revoked tokens get
401; too many of them from one client get 429. The route's rule in
:data:`knotwork.api.policy.POLICY` decides 403; ``own`` routes let non-admins reach only their
own person. Each token has a per-minute rate limit (429).
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from knotwork.api.policy import ADMIN, POLICY
from knotwork.store.accounts import Account, check_token, keyed_hash
from knotwork.store.engine import Store


def store_of(request: Request) -> Store:
    """The app's store."""
    store: Store = request.app.state.store
    return store


#: The browser session: an HttpOnly, SameSite=Strict cookie holding the same bearer token.
SESSION_COOKIE = "knotwork_token"


def presented_token(request: Request) -> str:
    """The token a request presents: ``Authorization: Bearer`` first, else the session cookie
    of the web app (only on same-origin requests for writes)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie and request.method not in ("GET", "HEAD"):
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
            raise HTTPException(403, "cross-origin write with a session cookie")
    return cookie.strip()


def authenticate(request: Request) -> Account:
    """The account behind the request's token, or 401 (429 after too many failures, or over
    the token's rate limit)."""
    state = request.app.state
    client = request.client.host if request.client else "-"
    now = time.monotonic()
    if state.failed.over(client, now=now):
        raise HTTPException(429, "too many failed token attempts; wait a minute")
    token = presented_token(request)
    found = check_token(state.store, token, key=state.key) if token else None
    if found is None:
        state.failed.hit(client, now=now)
        raise HTTPException(401, "a valid bearer token is required")
    if not state.rate.hit(keyed_hash(token, state.key), now=now):
        raise HTTPException(429, "too many requests for this token; wait a minute")
    return found


def authorize(found: Account, method: str, path: str, person: object = None) -> None:
    """403 unless the rule of ``(method, path)`` in the policy table lets ``found`` in;
    ``person`` is the ``{id}`` of ``own`` routes. The web pages pass the API route they show."""
    rule = POLICY.get((method, path))
    if rule is None or found.role not in rule.roles:
        raise HTTPException(403, "your role may not call this route")
    mine = found.person is not None and str(found.person) == str(person)
    if rule.own and found.role != ADMIN and not mine:
        raise HTTPException(403, "you may see only your own person")


def account(request: Request) -> Account:
    """The caller, authenticated and authorised for this route, or an HTTP error."""
    found = authenticate(request)
    route = request.scope.get("route")
    path = getattr(route, "path_format", request.url.path)
    authorize(found, request.method, path, request.path_params.get("id"))
    return found


Caller = Annotated[Account, Depends(account)]
StoreDep = Annotated[Store, Depends(store_of)]

__all__ = [
    "SESSION_COOKIE",
    "Caller",
    "StoreDep",
    "account",
    "authenticate",
    "authorize",
    "presented_token",
    "store_of",
]
