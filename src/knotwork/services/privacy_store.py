"""The privacy ledger kept in the store, shared by every worker of a server and every run.

:class:`~knotwork.services.privacy.Ledger` remembers the sets of people it released figures
about in memory: with ``knotwork serve --workers N`` each worker would keep its own, and all
would forget at a restart, so an analyst could difference two answers by sending them to two
workers, or across a restart. :class:`StoredLedger` has the same interface and keeps the sets in
the store's ``released`` table (:mod:`knotwork.store.released`), members as keyed hashes of
their ids under the server's secret key. A release is checked and recorded in one transaction
that holds the table's lock (SQLite's write lock, a PostgreSQL advisory lock), so that of two
concurrent releases that would difference each other, in any processes, exactly one is made.
Each ledger keeps what it read and reads only the rows newer than the last it saw.

>>> from knotwork.store.engine import Store
>>> store = Store.open("sqlite://")
>>> one, two = StoredLedgers(store, b"k", k_min=3), StoredLedgers(store, b"k", k_min=3)
>>> one["health"].release(range(6), "figure").value
'figure'
>>> two["health"].release(range(5), "figure").note[:40]
'suppressed: would differ from an earlier'
>>> two["groups"].release(range(5), "figure").value
'figure'
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Connection

from knotwork.services.privacy import (
    DEFAULT_K_MIN,
    Ledger,
    Ledgers,
    Released,
    differencing_note,
    note,
    safe_pair,
)
from knotwork.store.engine import Store
from knotwork.store.released import MemberHashes, ReleasedRow, add, read_since, serialise

T = TypeVar("T")


class StoreLock:
    """A transaction on ``store`` holding the released sets' lock, re-entrant per thread.

    The first ``with`` in a thread opens the transaction and takes the lock
    (:func:`knotwork.store.released.serialise`); nested ones join it; the last one out commits
    (or rolls back on an error, and runs the steps given to :meth:`on_rollback`). One per store
    in a process, shared by the ledgers of every kind, so that a thread never waits on a lock
    its own other transaction holds."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: Held by the thread inside the transaction, and while a ledger reads its cache.
        self.mutex = threading.RLock()
        self.depth = 0
        self.connection: Connection | None = None
        self._scope: AbstractContextManager[Connection] | None = None
        self._undo: list[Callable[[], None]] = []

    def __enter__(self) -> Connection:
        self.mutex.acquire()
        try:
            if self.depth == 0:
                scope = self.store.begin()
                connection = scope.__enter__()
                try:
                    serialise(connection)
                except BaseException:
                    scope.__exit__(*sys.exc_info())
                    raise
                self._scope, self.connection = scope, connection
            self.depth += 1
            assert self.connection is not None
            return self.connection
        except BaseException:
            self.mutex.release()
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            self.depth -= 1
            if self.depth:
                return
            scope, undo = self._scope, self._undo
            self._scope, self.connection, self._undo = None, None, []
            assert scope is not None
            try:
                scope.__exit__(kind, error, trace)
            except BaseException:
                for step in undo:
                    step()
                raise
            if kind is not None:
                for step in undo:
                    step()
        finally:
            self.mutex.release()

    def on_rollback(self, step: Callable[[], None]) -> None:
        """Run ``step`` if the open transaction does not commit."""
        self._undo.append(step)


def _with_erased(row: ReleasedRow) -> frozenset[str]:
    """The members of ``row``, with one placeholder per erased member (``people`` counts them):
    no later set holds an erased person, so each difference keeps its size."""
    missing = row.people - len(row.members)
    return row.members | {f"erased:{row.key}:{i}" for i in range(missing)}


class StoredLedger(Ledger):
    """A :class:`~knotwork.services.privacy.Ledger` of one ``kind`` of figure kept in
    ``store`` (see the module docstring); ``key``: the secret the members are hashed with.

    ``lock`` is the store's :class:`StoreLock`: hold it around several releases that must be
    decided together. ``released`` stays empty: the sets are in the store."""

    def __init__(
        self,
        store: Store,
        kind: str,
        key: bytes,
        k_min: int = DEFAULT_K_MIN,
        *,
        hashes: MemberHashes | None = None,
        lock: StoreLock | None = None,
    ) -> None:
        self.store = store
        self.kind = kind
        self._hashes = hashes if hashes is not None else MemberHashes(key)
        self._store_lock = lock if lock is not None else StoreLock(store)
        self._sets: dict[int, frozenset[str]] = {}  # by the row id first released
        self._last = 0
        super().__init__(k_min=k_min, released=[], lock=self._store_lock)

    def _refresh(self) -> None:
        """Read the rows newer than the last seen (through the held transaction, if any)."""
        held = self._store_lock.connection if self._store_lock.depth else None
        if held is not None:
            rows = read_since(held, self.kind, self._last)
        else:
            with self.store.connect() as connection:
                rows = read_since(connection, self.kind, self._last)
        for row in rows:
            self._sets[row.key] = _with_erased(row)
            self._last = max(self._last, row.id)

    def _forget(self) -> None:
        """Drop the cache: read everything again next time."""
        self._sets.clear()
        self._last = 0

    def _check(self, hashed: frozenset[str]) -> tuple[str, bool]:
        """Why ``hashed`` may not be released ("" when it may), and whether it already was."""
        with self._store_lock.mutex:
            self._refresh()
            known = False
            for old in self._sets.values():
                if not safe_pair(hashed, old, self.k_min):
                    return differencing_note(self.k_min), False
                known = known or old == hashed
            return "", known

    def refusal(self, people: Iterable[Any]) -> str:
        """Why a figure about ``people`` may not be released now ("" when it may)."""
        chosen = frozenset(people)
        if len(chosen) < self.k_min:
            return note(len(chosen), self.k_min)
        return self._check(self._hashes.of(chosen))[0]

    def release(self, people: Iterable[Any], value: T) -> Released[T]:
        """``value`` for ``people``, or a note when too few or when it would allow differencing
        with a set released by any worker; a new set is recorded before the value is returned.
        """
        chosen = frozenset(people)
        if len(chosen) < self.k_min:
            return Released(None, len(chosen), note(len(chosen), self.k_min))
        hashed = self._hashes.of(chosen)
        # Without the lock first: a refusal stays a refusal (sets are only added, and an
        # erased member keeps its place), and a set released before may be released again.
        why, known = self._check(hashed)
        if not why and not known:
            with self._store_lock as connection:
                why, known = self._check(hashed)
                if not why and not known:
                    new = add(connection, self.kind, hashed, people=len(hashed))
                    self._sets[new] = hashed
                    self._last = max(self._last, new)
                    self._store_lock.on_rollback(self._forget)
        if why:
            return Released(None, len(chosen), why)
        return Released(value, len(chosen))


class StoredLedgers(Ledgers):
    """One :class:`StoredLedger` per kind of figure over ``store``: what the API keeps in
    ``app.state.ledgers``. ``key``: the server's secret key (members' hashes)."""

    def __init__(self, store: Store, key: bytes, k_min: int = DEFAULT_K_MIN) -> None:
        super().__init__(k_min)
        self.store = store
        self._hashes = MemberHashes(key)
        self._store_lock = StoreLock(store)
        self._stored: dict[str, StoredLedger] = {}

    def __getitem__(self, kind: str) -> StoredLedger:
        with self._lock:
            if kind not in self._stored:
                self._stored[kind] = StoredLedger(
                    self.store,
                    kind,
                    self._hashes.key,
                    self.k_min,
                    hashes=self._hashes,
                    lock=self._store_lock,
                )
            return self._stored[kind]


__all__ = ["StoreLock", "StoredLedger", "StoredLedgers"]
