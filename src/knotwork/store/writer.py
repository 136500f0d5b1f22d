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

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, case, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from knotwork.ingest.base import Batch, Cursor, IngestReport, Source
from knotwork.model import Node, Record, canonical_json
from knotwork.store import schema
from knotwork.store.engine import Store

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


def _insert(store: Store, table: Table) -> Any:
    dialect = postgresql if store.backend == "postgresql" else sqlite
    return dialect.insert(table)


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _existing(connection: Connection, keys: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for part in _chunks(keys):
        rows = connection.execute(select(schema.nodes.c.id).where(schema.nodes.c.id.in_(part)))
        found.update(row[0] for row in rows)
    return found


def _merge_nodes(records: Iterable[Record]) -> list[dict[str, Any]]:
    """One row per node id; the latest (time, name, attrs) and the OR of the flags win."""
    merged: dict[int, Node] = {}
    flags: dict[int, int] = {}
    for record in records:
        for node in record.nodes:
            seen = merged.get(node.id)
            flags[node.id] = flags.get(node.id, 0) | node.flags
            if seen is None or _later(node, seen):
                merged[node.id] = node
    return [
        {
            "id": n.id,
            "kind": n.kind.value,
            "key": n.key,
            "name": n.name,
            "time": n.time,
            "flags": flags[n.id],
            "attrs": canonical_json(n.attrs),
        }
        for n in merged.values()
    ]


def _later(node: Node, seen: Node) -> bool:
    def order(n: Node) -> tuple[int, str, str]:
        return (-1 if n.time is None else n.time, n.name, canonical_json(n.attrs))

    return order(node) > order(seen)


def _write_nodes(store: Store, connection: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = _insert(store, schema.nodes)
    new, old = statement.excluded, schema.nodes.c

    def order(c: Any) -> Any:
        return tuple_(_coalesce(c.time), _bytewise(store, c.name), _bytewise(store, c.attrs))

    later = order(new) > order(old)
    statement = statement.on_conflict_do_update(
        index_elements=[old.id],
        set_={
            "flags": old.flags.op("|")(new.flags),
            "name": case((later, new.name), else_=old.name),
            "time": case((later, new.time), else_=old.time),
            "attrs": case((later, new.attrs), else_=old.attrs),
        },
    )
    connection.execute(statement, rows)


def _coalesce(column: Any) -> Any:
    return func.coalesce(column, -1)


def _bytewise(store: Store, column: Any) -> Any:
    """``column`` compared by code point, as Python compares str (SQLite's default BINARY
    already does; PostgreSQL's default collation may be linguistic, e.g. en_US.UTF-8)."""
    return column.collate("C") if store.backend == "postgresql" else column


def _write_ignoring(
    store: Store, connection: Connection, table: Table, key: str, rows: list[dict[str, Any]]
) -> None:
    if rows:
        statement = _insert(store, table).on_conflict_do_nothing(index_elements=[key])
        connection.execute(statement, rows)


def _write_cursor(store: Store, connection: Connection, source: SourceInfo, cursor: Cursor) -> None:
    row = {
        "name": source.name,
        "kind": source.kind,
        "location": source.location,
        "cursor": canonical_json(cursor),
        "updated": int(time.time()),
    }
    statement = _insert(store, schema.sources)
    statement = statement.on_conflict_do_update(
        index_elements=[schema.sources.c.name],
        set_={k: statement.excluded[k] for k in ("kind", "location", "cursor", "updated")},
    )
    connection.execute(statement, [row])


def write_batch(store: Store, source: SourceInfo, batch: Batch) -> tuple[int, int]:
    """Write ``batch`` and its cursor in one transaction; return (ingested, duplicates)."""
    with store.begin() as connection:
        seen = _existing(connection, [r.key for r in batch.records])
        fresh = []
        for record in batch.records:  # a record met twice in one batch is a duplicate too
            if record.key not in seen:
                seen.add(record.key)
                fresh.append(record)
        _write_nodes(store, connection, _merge_nodes(fresh))
        links = {link.id: link for r in fresh for link in r.links}
        _write_ignoring(
            store,
            connection,
            schema.links,
            "id",
            [
                {
                    "id": link.id,
                    "src": link.src,
                    "dst": link.dst,
                    "kind": link.kind.value,
                    "time": link.time,
                    "weight": link.weight,
                    "flags": link.flags,
                    "source": source.kind,
                    "attrs": canonical_json(link.attrs),
                }
                for link in links.values()
            ],
        )
        aliases = {a.id: a for r in fresh for a in r.aliases}
        _write_ignoring(
            store,
            connection,
            schema.aliases,
            "id",
            [
                {"id": i, "kind": a.kind.value, "value": a.value, "person": a.person}
                for i, a in aliases.items()
            ],
        )
        texts = {node: text for r in fresh for node, text in r.texts.items()}
        _write_ignoring(
            store,
            connection,
            schema.texts,
            "node",
            [{"node": n, "text": t} for n, t in texts.items()],
        )
        _write_cursor(store, connection, source, batch.cursor)
    return len(fresh), len(batch.records) - len(fresh)


def read_cursor(store: Store, name: str) -> Cursor | None:
    """The stored cursor of the source called ``name`` (None before its first ingest)."""
    with store.connect() as connection:
        text = connection.execute(
            select(schema.sources.c.cursor).where(schema.sources.c.name == name)
        ).scalar_one_or_none()
    return None if text is None else dict(json.loads(text))


Progress = Callable[[int, int | None], None]
"""Called after each batch with (records read so far, expected total or None)."""


def ingest(store: Store, source: Source, progress: Progress | None = None) -> IngestReport:
    """Run ``source`` into ``store`` from its stored cursor, batch by batch; return the report.

    Each batch is written with the cursor the source gives for it, in one transaction: a run
    killed at any moment and started again ends in the same store as an uninterrupted run.
    """
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
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["Progress", "SourceInfo", "ingest", "read_cursor", "write_batch"]
