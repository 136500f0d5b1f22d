"""``/api/v1/users``: list, add (the token is shown once) and revoke (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.models import NewUser, Token
from knotwork.store.accounts import add_user, list_users, revoke

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("")
def users(store: StoreDep, caller: Caller) -> list[dict[str, Any]]:
    """Every user with role and live token count (never a token)."""
    return list_users(store)


@router.post("", response_model=Token, status_code=201)
def add(request: Request, store: StoreDep, caller: Caller, user: NewUser) -> dict[str, Any]:
    """Add a user (or give a new token); the token is in this answer only."""
    token = add_user(store, user.alias, user.role, key=request.app.state.key, days=user.days)
    return {"alias": user.alias, "role": user.role, "token": token}


@router.delete("/{alias}")
def remove(store: StoreDep, caller: Caller, alias: str) -> dict[str, Any]:
    """Revoke every token of ``alias``."""
    return {"alias": alias, "revoked": revoke(store, alias)}
