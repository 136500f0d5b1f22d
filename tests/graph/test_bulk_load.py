"""The bulk phase of the loader (indexes dropped and rebuilt) keeps the store valid."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import inspect

from knotwork.graph.synthetic import generate
from knotwork.ingest.base import Batch
from knotwork.store import bulk, schema
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch


def index_names(store: Store, table: str) -> set[str]:
    return {str(ix["name"]) for ix in inspect(store.engine).get_indexes(table)}


def test_bulk_phase_gives_the_writers_store_and_keeps_the_indexes(
    new_store: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = generate(2_000, seed=8).part(0, 600)
    slow, fast = new_store(), new_store()
    write_batch(
        slow,
        SourceInfo("synthetic", "synthetic", "synthetic"),
        Batch(list(graph.records()), [], {}),
    )
    with slow.begin() as connection:
        connection.execute(schema.sources.delete())
    indexes = index_names(fast, "links"), index_names(fast, "nodes")
    assert {"ix_links_src", "ix_links_dst"} <= indexes[0]
    monkeypatch.setattr(bulk, "REINDEX_MIN", 10)  # this small load takes the bulk path
    assert bulk.load(fast, graph, chunk=250) == (len(graph.node_id), 600)
    assert (index_names(fast, "links"), index_names(fast, "nodes")) == indexes
    assert digest(fast) == digest(slow)
    assert bulk.load(fast, graph) == (0, 0)  # again: nothing new, the indexes still there
    assert (index_names(fast, "links"), index_names(fast, "nodes")) == indexes
    assert digest(fast) == digest(slow)


def test_indexes_come_back_when_a_load_fails(
    new_store: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = new_store()
    before = index_names(store, "links")
    graph = generate(1_000, seed=2).part(0, 300)
    monkeypatch.setattr(bulk, "REINDEX_MIN", 10)

    def broken(*_args: object) -> list[tuple[object, ...]]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "_link_rows", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        bulk.load(store, graph)
    assert index_names(store, "links") == before
