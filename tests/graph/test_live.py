"""Live views: new rows reach the next query without a rebuild, and give what a rebuild gives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from sqlalchemy import text

from knotwork.graph.live import refresh
from knotwork.graph.sample import commit_record
from knotwork.graph.synthetic import generate
from knotwork.graph.view import GraphView, cached_view
from knotwork.ingest.base import Batch
from knotwork.model import Node
from knotwork.store.bulk import load
from knotwork.store.engine import Store
from knotwork.store.merge import merge
from knotwork.store.writer import SourceInfo, write_batch

WEIGHTS = {
    "authored": (1.0, 0.5),
    "changed": (1.0, 1.0),
    "replies": (1.0, 0.2),
    "cites": (0.5, 0.5),
}
GIT = SourceInfo("git", "git:live", "live")


def pagerank(matrix: sp.csr_matrix, damping: float = 0.85, tol: float = 1e-13) -> np.ndarray:
    """Reference PageRank: plain power iteration, dangling mass spread evenly."""
    n = matrix.shape[0]
    out = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    transition = sp.diags(scale) @ matrix
    rank = np.full(n, 1.0 / n)
    for _ in range(1000):
        dangling = rank[out == 0].sum()
        new = damping * (transition.T @ rank + dangling / n) + (1 - damping) / n
        if np.abs(new - rank).sum() < tol:
            return np.asarray(new)
        rank = new
    return np.asarray(rank)


def assert_same(live: GraphView, full: GraphView) -> None:
    for name in ("ids", "kind", "flags", "src", "dst", "link_kind", "time", "trusted"):
        assert np.array_equal(getattr(live, name), getattr(full, name)), name
    assert np.array_equal(live.last_active, full.last_active)
    assert list(live.keys) == list(full.keys) and live.as_of == full.as_of
    np.testing.assert_allclose(live.weight, full.weight, rtol=1e-6)
    a, b = live.matrix(WEIGHTS), full.matrix(WEIGHTS)
    assert abs(a - b).max() < 1e-6
    assert np.abs(pagerank(a) - pagerank(b)).max() < 1e-9


def test_appended_links_and_nodes_are_added_without_a_rebuild(store: Store) -> None:
    graph = generate(6_000, seed=5)
    load(store, graph.part(0, 4_000), chunk=1_500)
    before = cached_view(store)
    assert cached_view(store) is before
    load(store, graph.part(4_000, 6_000))
    after = cached_view(store)
    assert after.previous is not None  # extended, not rebuilt
    assert after.n_links == 6_000 and after.n_nodes > before.n_nodes
    assert after.as_of > before.as_of  # the reference moved: older weights decayed more
    assert_same(after, GraphView.build(store))
    assert_same(after, graph.part(0, 6_000).to_view())


def test_a_native_post_is_seen_by_the_next_query(store: Store) -> None:
    load(store, generate(3_000, seed=7))
    cached_view(store)
    late = 1_900_000_000
    write_batch(store, GIT, Batch([commit_record("feed", "new@x.org", late, ["n.py"])], [], {}))
    view = cached_view(store)
    assert view.previous is not None
    new = view.index_of(Node.person("new@x.org").id)
    assert view.last_active[new] == late and view.as_of == late
    assert_same(view, GraphView.build(store))


def test_while_one_thread_refreshes_the_others_get_the_last_view(store: Store) -> None:
    from knotwork.graph import view as views

    load(store, generate(2_000, seed=3))
    last = cached_view(store)
    write_batch(
        store, GIT, Batch([commit_record("busy", "b@x.org", 1_900_000_000, ["b.py"])], [], {})
    )
    busy = next(lock for key, lock in views._REFRESHING.items() if key[0].startswith(store.url))
    with busy:  # another request is bringing the view up to date: no waiting, the last view
        assert cached_view(store) is last
    fresh = cached_view(store)  # then the next call sees the write
    assert fresh is not last and fresh.index_of(Node.person("b@x.org").id) >= 0


def test_explicit_as_of_keeps_later_links_out(store: Store) -> None:
    graph = generate(4_000, seed=9)
    load(store, graph.part(0, 3_000))
    middle = int(graph.time[3_500])
    first = cached_view(store, as_of=middle, half_life_days=90)
    load(store, graph.part(3_000, 4_000))
    live = cached_view(store, as_of=middle, half_life_days=90)
    assert live is not first and live.as_of == middle
    full = GraphView.build(store, as_of=middle, half_life_days=90)
    assert_same(live, full)
    assert full.n_links < 4_000


def test_updates_and_merges_cause_a_full_rebuild(store: Store) -> None:
    records = [
        commit_record("a1", "ada@x.org", 1_600_000_000, ["f.py"]),
        commit_record("b1", "ada.l@y.org", 1_600_100_000, ["f.py"]),
    ]
    write_batch(store, GIT, Batch(records, [], {}))
    first = cached_view(store)
    merge(store, "ada@x.org", "ada.l@y.org")
    merged = cached_view(store)
    assert merged.previous is None  # rebuilt
    assert_same(merged, GraphView.build(store))
    assert not np.array_equal(merged.src, first.src)
    with store.begin() as connection:
        connection.execute(text("UPDATE links SET weight = 3 WHERE kind = 'changed'"))
    updated = cached_view(store)
    assert updated.previous is None and updated.weight.max() > 2
    assert_same(updated, GraphView.build(store))


def test_a_link_completed_by_a_later_node_is_found(store: Store) -> None:
    graph = generate(2_000, seed=11)
    whole = graph.part(0, 2_000)
    person = int(graph.src[-1]) if graph.link_kind[-1] >= 0 else 0
    missing = whole.node_id != person
    early = replace(
        whole,
        node_id=whole.node_id[missing],
        node_kind=whole.node_kind[missing],
        node_key=[k for k, m in zip(whole.node_key, missing.tolist(), strict=True) if m],
    )
    load(store, early)
    first = cached_view(store)
    assert first.dropped > 0
    load(store, whole)
    view = cached_view(store)
    assert view.dropped == 0 and view.n_links == 2_000
    assert_same(view, GraphView.build(store))


def test_warm_start_reindexes_the_previous_ranking(store: Store) -> None:
    graph = generate(3_000, seed=13)
    load(store, graph.part(0, 2_000))
    first = cached_view(store)
    rank = first.memo("rank", lambda: pagerank(first.matrix(WEIGHTS)))
    load(store, graph.part(2_000, 3_000))
    second = refresh(store, first)
    warm = second.warm_start("rank")
    assert warm is not None and len(warm) == second.n_nodes
    old = np.searchsorted(second.ids, first.ids)
    assert np.array_equal(warm[old], rank)
    assert warm.sum() == rank.sum()  # new nodes start at 0
    assert second.warm_start("other") is None
