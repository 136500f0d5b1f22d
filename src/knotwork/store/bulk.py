"""Fast loading of large graphs (e.g. :mod:`knotwork.graph.synthetic`) into a store.

Rows are written in large chunks, each in one transaction, with ``ON CONFLICT DO NOTHING`` on
the stable ids, so loading the same graph twice changes nothing, and the rows are those the
ordinary writer would make (columns of :mod:`knotwork.store.schema`, canonical empty JSON
attributes). SQLite: ``executemany`` with relaxed syncing while loading. PostgreSQL: ``COPY``
into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``.

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


def _write(store: Store, table: Any, rows: list[tuple[Any, ...]]) -> int:
    """Insert ``rows`` (``table``'s columns, in order), skipping existing ids; return how many
    were new."""
    names = ", ".join(f'"{c.name}"' for c in table.c)
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if store.backend == "sqlite":
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
            before = raw.total_changes
            marks = ", ".join("?" * len(table.c))
            cursor.executemany(
                f"INSERT INTO {table.name} ({names}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING",
                rows,
            )
            raw.commit()
            written = int(raw.total_changes - before)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA cache_size=-65536")
        else:
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
            raw.commit()
        cursor.close()
    finally:
        raw.close()
    return written


def load(
    store: Store, graph: SyntheticGraph, *, source: str = "synthetic", chunk: int = CHUNK
) -> tuple[int, int]:
    """Write ``graph``'s nodes, then its links (in time order), into ``store``; return how many
    nodes and links were new."""
    nodes = sum(
        _write(store, schema.nodes, _node_rows(graph, lo, hi))
        for lo, hi in _ranges(len(graph.node_id), chunk)
    )
    ids = graph.link_ids().tolist()
    links = sum(
        _write(store, schema.links, _link_rows(graph, ids, lo, hi, source))
        for lo, hi in _ranges(graph.n_links, chunk)
    )
    return nodes, links


__all__ = ["CHUNK", "load"]
