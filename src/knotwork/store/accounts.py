"""API accounts: users with a role, bearer tokens kept only as a keyed hash, and the secret key.

A token is shown once, when it is made; the store keeps ``HMAC-SHA256(key, token)``, so a copy of
the database does not let anyone in. Tokens expire and can be revoked.

>>> from knotwork.store.engine import Store
>>> store = Store.open("sqlite://")
>>> token = add_user(store, "ada@example.org", "analyst", key=b"k")
>>> check_token(store, token, key=b"k").role
'analyst'
>>> revoke(store, "ada@example.org")
1
>>> check_token(store, token, key=b"k") is None
True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from knotwork.errors import InputError, NotFoundError
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.identity import candidates

ROLES = ("member", "analyst", "admin")
#: How long a new token lives, in days.
DEFAULT_TOKEN_DAYS = 90.0
DAY = 86_400


def secret_key() -> bytes:
    """The keyed-hash secret: ``KNOTWORK_SECRET_KEY``, else a random key kept (mode 0600) in
    ``KNOTWORK_SECRET_FILE`` (default ``.knotwork-secret`` in the working folder)."""
    text = os.environ.get("KNOTWORK_SECRET_KEY")
    if text:
        return text.encode()
    path = Path(os.environ.get("KNOTWORK_SECRET_FILE", ".knotwork-secret"))
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def keyed_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, as hex.

    >>> keyed_hash("ada", b"k") == keyed_hash("ada", b"k") != keyed_hash("ada", b"j")
    True
    """
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Account:
    """Who called: the user's alias, the person in the graph (if any) and the role."""

    user: int
    alias: str
    person: int | None
    role: str


#: Per store and alias: the person the alias resolved to (or None), when (monotonic seconds)
#: and this process's graph writes then (see :func:`_person_of`).
_PEOPLE: dict[tuple[str, str], tuple[int | None, float, int]] = {}
_PEOPLE_LOCK = threading.Lock()
#: The most aliases whose person is kept.
PEOPLE_CACHE = 4096


def _person_of(store: Store, alias: str) -> int | None:
    """The one person ``alias`` names, if any. Within the store's read lag (a server while
    other processes ingest, :attr:`~knotwork.store.engine.Store.read_lag`) and when this
    process wrote nothing to the graph since, the last answer is kept: a user whose alias is
    no person's would otherwise pay an identity lookup on every request."""
    key, now, own = (store.cache_key, alias), time.monotonic(), store.graph_writes
    with _PEOPLE_LOCK:
        entry = _PEOPLE.get(key)
    if entry is not None and store.within_read_lag(entry[1], entry[2]):
        return entry[0]
    with store.connect() as connection:
        found = candidates(connection, alias)
    person = found[0] if len(found) == 1 else None
    with _PEOPLE_LOCK:
        if len(_PEOPLE) >= PEOPLE_CACHE:
            _PEOPLE.clear()
        _PEOPLE[key] = (person, now, own)
    return person


def forget_people() -> None:
    """Drop the kept people of every alias (e.g. after an erasure)."""
    with _PEOPLE_LOCK:
        _PEOPLE.clear()


def add_user(
    store: Store,
    alias: str,
    role: str,
    *,
    key: bytes,
    days: float = DEFAULT_TOKEN_DAYS,
    now: int | None = None,
) -> str:
    """Add (or re-role) the user ``alias`` and return a new token; only its hash is stored."""
    if role not in ROLES:
        raise InputError(f"unknown role; use one of {', '.join(ROLES)}", place=role)
    if not alias.strip():
        raise InputError("the alias is empty", place="alias")
    moment = int(time.time()) if now is None else now
    users = schema.users
    person = _person_of(store, alias)
    token = "kw_" + secrets.token_urlsafe(32)
    with store.begin() as connection:
        user = connection.execute(
            select(users.c.id).where(users.c.alias == alias)
        ).scalar_one_or_none()
        if user is None:
            inserted = connection.execute(
                users.insert().values(alias=alias, person=person, role=role, created=moment)
            ).inserted_primary_key
            assert inserted is not None
            user = inserted[0]
        else:
            connection.execute(
                update(users).where(users.c.id == user).values(role=role, person=person)
            )
        connection.execute(
            schema.tokens.insert().values(
                digest=keyed_hash(token, key),
                user=user,
                created=moment,
                expires=moment + int(days * DAY),
            )
        )
    return token


def revoke(store: Store, alias: str, *, now: int | None = None) -> int:
    """Revoke every live token of ``alias``; returns how many."""
    users, tokens = schema.users, schema.tokens
    moment = int(time.time()) if now is None else now
    with store.begin() as connection:
        user = connection.execute(
            select(users.c.id).where(users.c.alias == alias)
        ).scalar_one_or_none()
        if user is None:
            raise NotFoundError("no such user", place=alias)
        result = connection.execute(
            update(tokens)
            .where(tokens.c.user == user, tokens.c.revoked.is_(None))
            .values(revoked=moment)
        )
    return int(result.rowcount)


def check_token(store: Store, token: str, *, key: bytes, now: int | None = None) -> Account | None:
    """The account of a live token, or None (unknown, expired or revoked)."""
    users, tokens = schema.users, schema.tokens
    moment = int(time.time()) if now is None else now
    with store.connect() as connection:
        row = connection.execute(
            select(users.c.id, users.c.alias, users.c.person, users.c.role)
            .join(tokens, tokens.c.user == users.c.id)
            .where(
                tokens.c.digest == keyed_hash(token, key),
                tokens.c.revoked.is_(None),
                tokens.c.expires > moment,
            )
        ).one_or_none()
    if row is None:
        return None
    person = row.person if row.person is not None else _person_of(store, row.alias)
    return Account(int(row.id), str(row.alias), person, str(row.role))


def list_users(store: Store) -> list[dict[str, object]]:
    """Every user: alias, role, person and live token count."""
    users, tokens = schema.users, schema.tokens
    with store.connect() as connection:
        rows = connection.execute(select(users).order_by(users.c.id)).all()
        live = connection.execute(select(tokens.c.user).where(tokens.c.revoked.is_(None))).scalars()
        counts: dict[int, int] = {}
        for user in live:
            counts[user] = counts.get(user, 0) + 1
    return [
        {
            "id": r.id,
            "alias": r.alias,
            "role": r.role,
            "person": r.person,
            "tokens": counts.get(r.id, 0),
        }
        for r in rows
    ]


__all__ = [
    "ROLES",
    "Account",
    "add_user",
    "check_token",
    "forget_people",
    "keyed_hash",
    "list_users",
    "revoke",
    "secret_key",
]
