"""``/api/v1/people/{id}``: a person's profile (own or admin) and erasure (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.models import PersonId
from knotwork.errors import NotFoundError
from knotwork.store.erase import erase, opted_out
from knotwork.store.identity import profile

router = APIRouter(prefix="/api/v1/people", tags=["people"])


@router.get("/{id}")
def person(store: StoreDep, caller: Caller, id: PersonId) -> dict[str, Any]:
    """The person: name, aliases, activity, links by kind, files, co-workers."""
    if id in opted_out(store) and caller.person != id:
        raise NotFoundError("no such person", place=str(id))
    return profile(store, id)


@router.delete("/{id}")
def delete(request: Request, store: StoreDep, caller: Caller, id: PersonId) -> dict[str, Any]:
    """Erase the person completely (admins): rows, texts, caches; re-ingest keeps them out."""
    return erase(store, id, key=request.app.state.key)
