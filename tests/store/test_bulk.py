"""Bulk loading: fast, idempotent, the same rows as the ordinary writer, on both backends."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sqlalchemy import func, select

from knotwork.graph.synthetic import generate
from knotwork.graph.view import GraphView
from knotwork.ingest.base import Batch
from knotwork.store import schema
from knotwork.store.bulk import load
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch


def count(store: Store, table: object) -> int:
    with store.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_load_is_idempotent_and_the_view_is_the_graphs(store: Store) -> None:
    graph = generate(5_000, seed=3).part(0, 5_000)
    assert load(store, graph, chunk=1_000) == (len(graph.node_id), 5_000)
    first = digest(store)
    assert load(store, graph) == (0, 0)
    assert digest(store) == first
    assert count(store, schema.links) == 5_000
    view, expected = GraphView.build(store), graph.to_view()
    assert np.array_equal(view.ids, expected.ids) and list(view.keys) == list(expected.keys)
    assert np.array_equal(view.src, expected.src) and np.array_equal(view.dst, expected.dst)
    assert np.array_equal(view.weight, expected.weight)


def test_loading_in_parts_gives_the_store_of_loading_whole(new_store: Callable[[], Store]) -> None:
    make = new_store
    graph = generate(4_000, seed=4).part(0, 4_000)
    whole, parts = make(), make()
    load(whole, graph)
    for lo in range(0, 4_000, 1_500):
        load(parts, graph.part(lo, min(4_000, lo + 1_500)))
    assert digest(whole) == digest(parts)


def test_bulk_rows_match_the_writers_rows(new_store: Callable[[], Store]) -> None:
    make = new_store
    graph = generate(1_000, seed=5).part(0, 300)
    bulk, written = make(), make()
    load(bulk, graph)
    info = SourceInfo("synthetic", "synthetic", "synthetic")
    write_batch(written, info, Batch(list(graph.records()), [], {}))
    with written.begin() as connection:
        connection.execute(schema.sources.delete())
    assert digest(bulk) == digest(written)
