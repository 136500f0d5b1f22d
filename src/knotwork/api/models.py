"""Request bodies and shared response pieces (pydantic, ``extra="forbid"``) and pagination.

>>> page([1, 2, 3, 4], limit=2, offset=1)
{'items': [2, 3], 'total': 4, 'limit': 2, 'offset': 1}
>>> NewUser(alias="ada@example.org", role="member").role
'member'
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

#: A node id: a 63-bit hash.
PersonId = Annotated[int, Path(ge=0, le=2**63 - 1, description="The person's node id.")]
#: The hard maximum of rows per page.
MAX_PAGE = 100


class Strict(BaseModel):
    """A model that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid")


class NewUser(Strict):
    """A user to add: the alias (email or handle) and the role; a token is returned once."""

    alias: str = Field(min_length=1, max_length=320)
    role: Literal["member", "analyst", "admin"]
    days: float = Field(default=90.0, gt=0, le=3650)


class Pair(Strict):
    """Two people (ids, keys or aliases): merge ``merged`` into ``kept``."""

    kept: str = Field(min_length=1, max_length=320)
    merged: str = Field(min_length=1, max_length=320)


class Person(Strict):
    """One person (id, key or alias), e.g. to split."""

    person: str = Field(min_length=1, max_length=320)


class Token(Strict):
    """A new token: shown once, never stored in clear."""

    alias: str
    role: str
    token: str


class Page(Strict):
    """One page of results."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class Health(Strict):
    """Liveness."""

    status: Literal["ok"]


def page(rows: list[Any], *, limit: int, offset: int) -> dict[str, Any]:
    """Rows ``offset .. offset+limit`` with the total, capped at :data:`MAX_PAGE`."""
    limit = min(limit, MAX_PAGE)
    return {
        "items": rows[offset : offset + limit],
        "total": len(rows),
        "limit": limit,
        "offset": offset,
    }


__all__ = [
    "MAX_PAGE",
    "Health",
    "NewUser",
    "Page",
    "Pair",
    "Person",
    "PersonId",
    "Strict",
    "Token",
    "page",
]
