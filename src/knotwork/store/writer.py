"""Writing batches: idempotent upserts, each batch with its source cursor in one transaction.

A record whose main node (``Record.key``) is already stored is a **duplicate** and is skipped;
everything else is inserted with ``ON CONFLICT DO NOTHING`` on the stable ids, so writing the
same batch twice changes nothing. Nodes met again are merged by order-independent rules (flags
are OR-ed; name, time and attrs are those of the latest activity), so that the store, and its
digest, do not depend on the order in which batches arrive. "Latest" orders sightings by (time,
name, attrs), comparing text by code point on every backend, so that ties break the same way.

>>> from knotwork.model import Node, NodeKind, Record
>>> from knotwork.ingest.base import Batch
>>> from knotwork.store.engine import Store
>>> store = Store.open("sqlite://")
>>> commit = Node.make(NodeKind.COMMIT, "abc123", name="Fix it", time=1_600_000_000)
>>> batch = Batch([Record("git", commit.id, "repo@abc123", nodes=[commit])], [], {"tip": 1})
>>> write_batch(store, SourceInfo("git", "git:demo", "repo"), batch)
(1, 0)
>>> write_batch(store, SourceInfo("git", "git:demo", "repo"), batch)
(0, 1)
>>> read_cursor(store, "git:demo")
{'tip': 1}
"""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select

from knotwork.ingest.base import Batch, Cursor, IngestReport, Source
from knotwork.model import Node, Record, canonical_json
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.merge import apply_merges, join_paths

CHUNK = 900  # ids per IN (...) list, under SQLite's variable limit


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """The identity of a source as the store keeps it."""

    kind: str
    name: str
    location: str

    @classmethod
    def of(cls, source: Source) -> SourceInfo:
        """The info of a live source object."""
        return cls(source.kind, source.name, source.location)


def _placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _bytewise(connection: Connection) -> str:
    """Text compared by code point, as Python compares str (SQLite's default BINARY already
    does; PostgreSQL's default collation may be linguistic, e.g. en_US.UTF-8)."""
    return ' COLLATE "C"' if connection.dialect.name == "postgresql" else ""


def _insert_sql(connection: Connection, table: Table, conflict: str) -> str:
    """``INSERT ... ON CONFLICT`` text for ``table``'s columns, in the driver's paramstyle.

    The same statement serves SQLite and PostgreSQL; rows are passed as tuples straight to the
    driver's ``executemany``: batches are large, and per-row work is what ingest pays for.
    """
    names = [f'"{column.name}"' for column in table.c]
    marks = ", ".join([_placeholder(connection)] * len(names))
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks}) {conflict}"


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _existing(connection: Connection, keys: Sequence[int]) -> set[int]:
    """The ``keys`` already stored as node ids (plain SQL: no statement to build per chunk)."""
    found: set[int] = set()
    mark = _placeholder(connection)
    for part in _chunks(keys):
        sql = f"SELECT id FROM nodes WHERE id IN ({', '.join([mark] * len(part))})"
        found.update(row[0] for row in connection.exec_driver_sql(sql, tuple(part)))
    return found


_JSON_MEMO: dict[tuple[tuple[str, Any], ...], str] = {}


def _json(attrs: dict[str, Any]) -> str:
    """Canonical JSON of ``attrs``, memoised for the small flat dicts that most links carry."""
    if not attrs:
        return "{}"
    try:
        key = tuple(sorted(attrs.items()))
        text = _JSON_MEMO.get(key)
    except TypeError:  # unhashable values (lists): not memoised
        return canonical_json(attrs)
    if text is None:
        text = canonical_json(attrs)
        if len(_JSON_MEMO) < 100_000:
            _JSON_MEMO[key] = text
    return text


def _merge_nodes(records: Iterable[Record]) -> list[tuple[Any, ...]]:
    """One row per node id; the latest (time, name, attrs) and the OR of the flags win."""
    merged: dict[int, Node] = {}
    flags: dict[int, int] = {}
    for record in records:
        for node in record.nodes:
            seen = merged.get(node.id)
            if seen is None:
                merged[node.id] = node
                flags[node.id] = node.flags
            elif seen is not node:  # a person recurs as the same object
                if node.flags:
                    flags[node.id] |= node.flags
                mine, theirs = node.time, seen.time
                if mine is not None and theirs is not None and mine != theirs:  # most often
                    if mine > theirs:
                        merged[node.id] = node
                elif _later(node, seen):
                    merged[node.id] = node
    return [
        (
            n.id,
            n.kind._value_,
            n.key,
            n.name,
            n.time,
            flags[n.id],
            _json(n.attrs) if n.attrs else "{}",
        )
        for n in merged.values()
    ]


def _later(node: Node, seen: Node) -> bool:
    """Whether ``node`` orders after ``seen`` by (time, name, attrs as canonical JSON); the
    attrs, the costly part, are compared only when time and name tie."""
    mine, theirs = -1 if node.time is None else node.time, -1 if seen.time is None else seen.time
    if mine != theirs:
        return mine > theirs
    if node.name != seen.name:
        return node.name > seen.name
    return _json(node.attrs) > _json(seen.attrs)


def _write_nodes(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    c = _bytewise(connection)

    def order(table: str) -> str:
        return f"(COALESCE({table}.time, -1), {table}.name{c}, {table}.attrs{c})"

    later = f"{order('excluded')} > {order('nodes')}"
    update = ", ".join(
        f"{column} = CASE WHEN {later} THEN excluded.{column} ELSE nodes.{column} END"
        for column in ("name", "time", "attrs")
    )
    conflict = f"ON CONFLICT (id) DO UPDATE SET flags = nodes.flags | excluded.flags, {update}"
    connection.exec_driver_sql(_insert_sql(connection, schema.nodes, conflict), rows)


def _write_ignoring(
    connection: Connection, table: Table, key: str, rows: list[tuple[Any, ...]]
) -> None:
    if rows:
        sql = _insert_sql(connection, table, f"ON CONFLICT ({key}) DO NOTHING")
        connection.exec_driver_sql(sql, rows)


def _write_cursor(connection: Connection, source: SourceInfo, cursor: Cursor) -> None:
    row = (source.name, source.kind, source.location, canonical_json(cursor), int(time.time()))
    update = ", ".join(f"{k} = excluded.{k}" for k in ("kind", "location", "cursor", "updated"))
    sql = _insert_sql(connection, schema.sources, f"ON CONFLICT (name) DO UPDATE SET {update}")
    connection.exec_driver_sql(sql, [row])


def write_batch(store: Store, source: SourceInfo, batch: Batch) -> tuple[int, int]:
    """Write ``batch`` and its cursor in one transaction; return (ingested, duplicates)."""
    with store.begin() as connection:
        from knotwork.store.erase import keep_out  # erased people stay out (tombstones)

        records = keep_out(connection, batch.records)
        seen = _existing(connection, [r.key for r in records])
        fresh = []
        for record in records:  # a record met twice in one batch is a duplicate too
            if record.key not in seen:
                seen.add(record.key)
                fresh.append(record)
        _write_nodes(connection, _merge_nodes(fresh))
        kind, js = source.kind, _json
        links = {  # one row per link id, the last met wins
            k.id: (
                k.id,
                k.src,
                k.dst,
                k.kind._value_,
                k.time,
                k.weight,
                k.flags,
                kind,
                js(k.attrs) if k.attrs else "{}",
            )
            for r in fresh
            for k in r.links
        }
        _write_ignoring(connection, schema.links, "id", list(links.values()))
        # the same alias recurs in many records, most often as the same object: those are
        # told apart by identity (cheap) before equal values are (a dataclass hash each)
        aliases = set({id(a): a for r in fresh for a in r.aliases}.values())
        _write_ignoring(
            connection,
            schema.aliases,
            "id",
            [(a.id, a.kind._value_, a.value, a.person) for a in aliases],
        )
        texts = {node: text for r in fresh for node, text in r.texts.items()}
        _write_ignoring(connection, schema.texts, "node", list(texts.items()))
        _write_cursor(connection, source, batch.cursor)
    return len(fresh), len(batch.records) - len(fresh)


def read_cursor(store: Store, name: str) -> Cursor | None:
    """The stored cursor of the source called ``name`` (None before its first ingest)."""
    with store.connect() as connection:
        text = connection.execute(
            select(schema.sources.c.cursor).where(schema.sources.c.name == name)
        ).scalar_one_or_none()
    return None if text is None else dict(json.loads(text))


_GC_LOCK = threading.Lock()
_GC_DEPTH = [0, 0, 0, 0]  # ingests running, and the thresholds to restore after the last
BULK_GC = (100_000, 50, 100)
"""Collector thresholds while ingesting: a batch is hundreds of thousands of small acyclic
objects that live until it is written, which the default (700, 10, 10) traces over and over
(about a sixth of an ingest's CPU time)."""


@contextmanager
def bulk_gc() -> Iterator[None]:
    """Run the body with :data:`BULK_GC` thresholds (nested and concurrent uses allowed); the
    previous thresholds come back when the last use ends.

    >>> before = gc.get_threshold()
    >>> with bulk_gc():
    ...     gc.get_threshold() == BULK_GC
    True
    >>> gc.get_threshold() == before
    True
    """
    with _GC_LOCK:
        if _GC_DEPTH[0] == 0:
            _GC_DEPTH[1:] = gc.get_threshold()
            gc.set_threshold(*BULK_GC)
        _GC_DEPTH[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_DEPTH[0] -= 1
            if _GC_DEPTH[0] == 0:
                gc.set_threshold(*_GC_DEPTH[1:])


Progress = Callable[[int, int | None], None]
"""Called after each batch with (records read so far, expected total or None)."""


def ingest(store: Store, source: Source, progress: Progress | None = None) -> IngestReport:
    """Run ``source`` into ``store`` from its stored cursor, batch by batch; return the report.

    Each batch is written with the cursor the source gives for it, in one transaction: a run
    killed at any moment and started again ends in the same store as an uninterrupted run.
    """
    with bulk_gc():
        return _ingest(store, source, progress)


def _ingest(store: Store, source: Source, progress: Progress | None) -> IngestReport:
    started = time.perf_counter()
    info = SourceInfo.of(source)
    report = IngestReport(source=source.kind, location=source.location)
    for batch in source.batches(read_cursor(store, source.name)):
        ingested, duplicates = write_batch(store, info, batch)
        report.count(
            read=batch.read,
            ingested=ingested,
            rejected=len(batch.rejections),
            duplicates=duplicates,
        )
        report.rejections.extend(batch.rejections)
        for record in batch.records:
            if record.defects:
                report.defects += len(record.defects)
                report.defect_places.extend(f"{record.place}: {d}" for d in record.defects)
        if progress is not None:
            progress(report.read, batch.total)
    apply_merges(store)  # rows that name a merged person join the person they were merged into
    join_paths(store)  # paths mentioned in mail or chat join git's file of that path
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["BULK_GC", "Progress", "SourceInfo", "bulk_gc", "ingest", "read_cursor", "write_batch"]
