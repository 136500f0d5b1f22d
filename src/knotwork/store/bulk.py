"""Fast loading of large graphs (e.g. :mod:`knotwork.graph.synthetic`) into a store.

Rows are written in large chunks, each in one transaction, with ``ON CONFLICT DO NOTHING`` on
the stable ids, so loading the same graph twice changes nothing, and the rows are those the
ordinary writer would make (columns of :mod:`knotwork.store.schema`, canonical empty JSON
attributes), appended in the graph's order (time order for links), as the writer would.

Bulk phase (what makes 10M links load in minutes rather than a quarter of an hour):

* one raw DB-API connection for the whole load, rows built as tuples straight from the numpy
  columns (``tolist`` per column, no per-row objects);
* a large load (at least :data:`REINDEX_MIN` rows and at least as many as the table holds)
  drops the table's secondary indexes (``links(src)``, ``links(dst)``, ``nodes(kind, key)``)
  first and builds them again at the end, one sort each, instead of a random B-tree insert
  per row and index; the primary key stays, so ids are still checked; the indexes are
  rebuilt even when the load fails half way;
* SQLite: ``synchronous=OFF`` and a 1 GiB page cache while loading (the defaults are put
  back after), ``executemany`` per chunk; PostgreSQL: ``COPY`` into a temporary table, then
  one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` per chunk, or, into an empty table
  and with distinct ids (no conflict possible), ``COPY`` straight into the table.

>>> from knotwork.graph.synthetic import generate
>>> from knotwork.store.engine import Store
>>> store = Store.open("sqlite://")
>>> graph = generate(10_000)
>>> load(store, graph) == (len(graph.node_id), 10_000)
True
>>> load(store, graph)
(0, 0)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from knotwork.graph.synthetic import SyntheticGraph
from knotwork.graph.view import LINK_KINDS, NODE_KINDS
from knotwork.store import schema
from knotwork.store.engine import Store

#: Rows per transaction.
CHUNK = 200_000
#: Loads of at least this many rows (and at least the table's size) rebuild its indexes.
REINDEX_MIN = 100_000
#: SQLite page cache while loading, in KiB (negative: a size rather than a page count).
SQLITE_CACHE_KIB = 1 << 20


def _node_rows(graph: SyntheticGraph, lo: int, hi: int) -> list[tuple[Any, ...]]:
    kinds = [NODE_KINDS[k] for k in graph.node_kind[lo:hi].tolist()]
    ids = graph.node_id[lo:hi].tolist()
    return [
        (i, k, key, "", None, 0, "{}")
        for i, k, key in zip(ids, kinds, graph.node_key[lo:hi], strict=True)
    ]


def _link_rows(
    graph: SyntheticGraph, ids: Sequence[int], lo: int, hi: int, source: str
) -> list[tuple[Any, ...]]:
    kinds = [LINK_KINDS[k] for k in graph.link_kind[lo:hi].tolist()]
    return [
        (i, s, d, k, t, w, 0, source, "{}")
        for i, s, d, k, t, w in zip(
            ids[lo:hi],
            graph.src[lo:hi].tolist(),
            graph.dst[lo:hi].tolist(),
            kinds,
            graph.time[lo:hi].tolist(),
            graph.weight[lo:hi].astype(np.float64).tolist(),
            strict=True,
        )
    ]


def _ranges(size: int, chunk: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, size, chunk):
        yield lo, min(size, lo + chunk)


class _Loader:
    """One raw connection in bulk mode: :meth:`write` chunks, :meth:`close` restores it."""

    def __init__(self, store: Store) -> None:
        self.sqlite = store.backend == "sqlite"
        self.raw: Any = store.engine.raw_connection()
        self.cursor: Any = self.raw.cursor()
        if self.sqlite:
            self.cursor.execute("PRAGMA synchronous=OFF")
            self.cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    def close(self) -> None:
        try:
            if self.sqlite:
                self.cursor.execute("PRAGMA synchronous=NORMAL")
                self.cursor.execute("PRAGMA cache_size=-65536")
            self.cursor.close()
        finally:
            self.raw.close()

    def count(self, table: Any) -> int:
        self.cursor.execute(f"SELECT count(*) FROM {table.name}")
        return int(self.cursor.fetchone()[0])

    def secondary_indexes(self, table: Any) -> list[tuple[str, str]]:
        """(name, CREATE statement) of ``table``'s indexes other than its primary key."""
        if self.sqlite:
            self.cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                (table.name,),
            )
        else:
            self.cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT x.indisunique",
                (table.name,),
            )
        return [(str(name), str(sql)) for name, sql in self.cursor.fetchall()]

    def ddl(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self.cursor.execute(statement)
        self.raw.commit()

    def write(self, table: Any, rows: list[tuple[Any, ...]], direct: bool = False) -> int:
        """Insert ``rows`` (``table``'s columns, in order), skipping existing ids; return how
        many were new. ``direct`` (PostgreSQL, the ids are known to be new): ``COPY`` straight
        into the table."""
        names = ", ".join(f'"{c.name}"' for c in table.c)
        cursor = self.cursor
        if direct and not self.sqlite:
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            self.raw.commit()
            return len(rows)
        if self.sqlite:
            before = self.raw.total_changes
            marks = ", ".join("?" * len(table.c))
            cursor.executemany(
                f"INSERT INTO {table.name} ({names}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING",
                rows,
            )
            self.raw.commit()
            return int(self.raw.total_changes - before)
        cursor.execute(
            f"CREATE TEMPORARY TABLE bulk_rows (LIKE {table.name} INCLUDING DEFAULTS) "
            "ON COMMIT DROP"
        )
        with cursor.copy(f"COPY bulk_rows ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM bulk_rows "
            "ON CONFLICT (id) DO NOTHING"
        )
        written = int(cursor.rowcount)
        self.raw.commit()
        return written

    def load(self, table: Any, size: int, rows: Any, chunk: int, unique: bool) -> int:
        """Write ``rows(lo, hi)`` for every chunk of ``range(size)``, around an index rebuild
        when the load is large (see the module docstring). ``unique``: the rows' ids are
        distinct, so into an empty table they can be copied without a conflict check."""
        indexes: list[tuple[str, str]] = []
        held = self.count(table)
        if size >= REINDEX_MIN and size >= held:
            indexes = self.secondary_indexes(table)
            self.ddl([f'DROP INDEX IF EXISTS "{name}"' for name, _ in indexes])
        direct = unique and held == 0
        try:
            return sum(self.write(table, rows(lo, hi), direct) for lo, hi in _ranges(size, chunk))
        finally:
            if indexes:
                self.raw.rollback()
                self.ddl([sql for _, sql in indexes])


def load(
    store: Store, graph: SyntheticGraph, *, source: str = "synthetic", chunk: int = CHUNK
) -> tuple[int, int]:
    """Write ``graph``'s nodes, then its links (in time order), into ``store``; return how many
    nodes and links were new."""
    loader = _Loader(store)
    try:
        nodes = loader.load(
            schema.nodes,
            len(graph.node_id),
            lambda lo, hi: _node_rows(graph, lo, hi),
            chunk,
            np.unique(graph.node_id).size == len(graph.node_id),
        )
        link_ids = graph.link_ids()
        ids = link_ids.tolist()
        links = loader.load(
            schema.links,
            graph.n_links,
            lambda lo, hi: _link_rows(graph, ids, lo, hi, source),
            chunk,
            np.unique(link_ids).size == len(ids),
        )
    finally:
        loader.close()
        store.note_graph_write()  # committed chunk by chunk, on a raw connection
    return nodes, links


__all__ = ["CHUNK", "REINDEX_MIN", "load"]
