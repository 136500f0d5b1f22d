"""The ``released`` table: the sets of people that aggregates were released about.

The privacy ledger of the API (:class:`knotwork.services.privacy_store.StoredLedger`) keeps here
every set of people it let a figure describe, so that all the workers of a server, and every
later run, check a new set against the same memory. A member is kept as a keyed hash of the
person's id (:func:`member_hash`, HMAC-SHA256 under the server's secret key), never as an id or
alias. Rows are only added, each with a larger id than any before (SQLite ``AUTOINCREMENT``, a
PostgreSQL sequence, inserts serialised by :func:`serialise`), so a reader fetches only the rows
newer than the last it saw (:func:`read_since`). Erasing a person (:func:`forget`) replaces
every row that holds their hash by a new row without it, whose ``origin`` names the row first
released; ``people`` still counts the erased members, so that the ledger's answers do not change.

>>> from knotwork.store.engine import Store
>>> store = Store.open("sqlite://")
>>> with store.begin() as connection:
...     serialise(connection)
...     first = add(connection, "health", [member_hash(p, b"k") for p in (1, 2, 3)], now=0)
>>> with store.begin() as connection:
...     forget(connection, [2], b"k")
1
>>> with store.connect() as connection:
...     [(r.origin, len(r.members), r.people) for r in read_since(connection, "health", 0)]
[(1, 2, 3)]
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select

from knotwork.store import schema
from knotwork.store.accounts import keyed_hash

#: Hex digits of a member's keyed hash kept (128 bits).
HASH_CHARS = 32
#: The PostgreSQL advisory lock (a transaction lock) that serialises writes to ``released``.
LOCK_ID = 0x6B6E6F7477726C64  # "knotwrld"
#: Memos of member hashes larger than this are emptied rather than grown.
MEMO_LIMIT = 2_000_000

RELEASED = schema.released


def member_hash(person: Any, key: bytes) -> str:
    """The keyed hash that stands for ``person`` (an id) in a released set.

    >>> member_hash(7, b"k") == member_hash("7", b"k") != member_hash(7, b"j")
    True
    >>> len(member_hash(7, b"k"))
    32
    """
    return keyed_hash(f"released:{person}", key)[:HASH_CHARS]


_MEMOS: weakref.WeakSet[MemberHashes] = weakref.WeakSet()
_MEMOS_LOCK = threading.Lock()


class MemberHashes:
    """:func:`member_hash` under one key, remembered per person (a health figure describes
    every person of the graph: hashing them all again on every request would cost more than the
    check). :func:`forget_memos` empties every memo, which erasure does.

    >>> hashes = MemberHashes(b"k")
    >>> hashes.of([1, 2]) == frozenset({member_hash(1, b"k"), member_hash(2, b"k")})
    True
    """

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._memo: dict[Any, str] = {}
        self._lock = threading.Lock()
        with _MEMOS_LOCK:
            _MEMOS.add(self)

    def of(self, people: Iterable[Any]) -> frozenset[str]:
        """The hashes of ``people``."""
        with self._lock:
            memo = self._memo
            if len(memo) > MEMO_LIMIT:
                memo.clear()
            found = []
            for person in people:
                digest = memo.get(person)
                if digest is None:
                    digest = memo[person] = member_hash(person, self.key)
                found.append(digest)
        return frozenset(found)

    def clear(self) -> None:
        """Forget every remembered hash."""
        with self._lock:
            self._memo.clear()


def forget_memos() -> None:
    """Empty the memo of every :class:`MemberHashes` of this process."""
    with _MEMOS_LOCK:
        memos = list(_MEMOS)
    for memo in memos:
        memo.clear()


def serialise(connection: Connection) -> None:
    """Make the rest of ``connection``'s transaction the only writer of released sets.

    PostgreSQL: the transaction-scoped advisory lock :data:`LOCK_ID`. SQLite: ``BEGIN
    IMMEDIATE`` (the database's write lock) when the transaction has not written yet; one that
    has already holds it. Call it before reading the sets that a decision depends on."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(LOCK_ID)))
        return
    driver: Any = connection.connection.driver_connection
    if not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True, slots=True)
class ReleasedRow:
    """One released set: its row ``id``, the ``origin`` row it replaces (None for an original),
    the members' hashes, and how many people it described."""

    id: int
    origin: int | None
    members: frozenset[str]
    people: int

    @property
    def key(self) -> int:
        """The id of the set as first released (the same across its replacements)."""
        return self.id if self.origin is None else self.origin


def read_since(connection: Connection, kind: str, after: int) -> list[ReleasedRow]:
    """The sets of ``kind`` in rows newer than ``after``, oldest first."""
    query = (
        select(RELEASED.c.id, RELEASED.c.origin, RELEASED.c.members, RELEASED.c.people)
        .where(RELEASED.c.kind == kind, RELEASED.c.id > after)
        .order_by(RELEASED.c.id)
    )
    return [
        ReleasedRow(int(i), None if o is None else int(o), frozenset(m.split()), int(n))
        for i, o, m, n in connection.execute(query)
    ]


def add(
    connection: Connection,
    kind: str,
    members: Iterable[str],
    *,
    people: int | None = None,
    now: int | None = None,
    origin: int | None = None,
) -> int:
    """Record a released set of ``kind`` (members' hashes); returns its row id. ``people``:
    how many it described (default: the members). Call :func:`serialise` first."""
    chosen = sorted(set(members))
    row = {
        "kind": kind,
        "members": " ".join(chosen),
        "people": len(chosen) if people is None else people,
        "time": int(time.time()) if now is None else now,
        "origin": origin,
    }
    new = connection.execute(insert(RELEASED).values(row).returning(RELEASED.c.id)).scalar_one()
    return int(new)


def forget(connection: Connection, people: Iterable[Any], key: bytes) -> int:
    """Take ``people`` (ids) out of every released set; returns how many sets held one.

    Each such row is replaced by a new one without their hashes (same kind, time and number of
    people; ``origin`` the row first released), so that readers of newer rows see the change."""
    gone = {member_hash(p, key) for p in people}
    if not gone:
        return 0
    serialise(connection)
    hit = or_(*(RELEASED.c.members.contains(h, autoescape=True) for h in sorted(gone)))
    rows = connection.execute(select(RELEASED).where(hit).order_by(RELEASED.c.id)).all()
    changed = 0
    for row in rows:
        members = set(row.members.split())
        if not members & gone:
            continue
        connection.execute(delete(RELEASED).where(RELEASED.c.id == row.id))
        add(
            connection,
            row.kind,
            members - gone,
            people=row.people,
            now=row.time,
            origin=row.id if row.origin is None else row.origin,
        )
        changed += 1
    return changed


def count(connection: Connection) -> int:
    """How many released sets the store keeps."""
    return int(connection.execute(select(func.count()).select_from(RELEASED)).scalar_one())


__all__ = [
    "HASH_CHARS",
    "LOCK_ID",
    "MemberHashes",
    "ReleasedRow",
    "add",
    "count",
    "forget",
    "forget_memos",
    "member_hash",
    "read_since",
    "serialise",
]
