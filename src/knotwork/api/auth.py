"""Authentication and authorisation of every route but ``/health``.

A request carries ``Authorization: Bearer <token>``; the token's keyed hash is looked up
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


def account(request: Request) -> Account:
    """The caller, authenticated and authorised for this route, or an HTTP error."""
    state = request.app.state
    client = request.client.host if request.client else "-"
    now = time.monotonic()
    if state.failed.over(client, now=now):
        raise HTTPException(429, "too many failed token attempts; wait a minute")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    found = (
        check_token(state.store, token, key=state.key)
        if scheme.lower() == "bearer" and token
        else None
    )
    if found is None:
        state.failed.hit(client, now=now)
        raise HTTPException(401, "a valid bearer token is required")
    if not state.rate.hit(keyed_hash(token, state.key), now=now):
        raise HTTPException(429, "too many requests for this token; wait a minute")
    route = request.scope.get("route")
    rule = POLICY.get((request.method, getattr(route, "path_format", request.url.path)))
    if rule is None or found.role not in rule.roles:
        raise HTTPException(403, "your role may not call this route")
    if rule.own and found.role != ADMIN:
        wanted = request.path_params.get("id")
        if found.person is None or str(found.person) != str(wanted):
            raise HTTPException(403, "you may see only your own person")
    return found


Caller = Annotated[Account, Depends(account)]
StoreDep = Annotated[Store, Depends(store_of)]

__all__ = ["Caller", "StoreDep", "account", "store_of"]
