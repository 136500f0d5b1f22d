"""GraphView: reading the store into arrays, decay, time windows, projections, caching."""

from __future__ import annotations

import numpy as np
import pytest

from knotwork.graph.sample import commit_record, sample_store, store_of
from knotwork.graph.view import DAY, GraphView, cached_view
from knotwork.ingest.base import Batch
from knotwork.model import Flag, Link, LinkKind, Node, NodeKind, make_id
from knotwork.store.writer import SourceInfo, write_batch

T = 1_600_000_000


def test_view_holds_every_node_and_link_of_the_store() -> None:
    view = GraphView.build(sample_store())
    assert view.n_nodes == 9 and view.n_links == 12
    assert list(view.ids) == sorted(view.ids)
    assert view.mask(NodeKind.PERSON).sum() == 3
    assert view.people().sum() == 2  # the bot is left out
    assert view.people(bots=True).sum() == 3
    ada = view.index_of(Node.person("ada@example.org").id)
    assert view.keys[ada] == "ada@example.org"
    with pytest.raises(KeyError):
        view.index_of(12345)


def test_weights_halve_every_half_life() -> None:
    store = store_of(
        [
            commit_record("a", "ada@x.org", T, ["f"]),
            commit_record("b", "ada@x.org", T + 100 * DAY, ["f"]),
        ]
    )
    view = GraphView.build(store, half_life_days=100)
    assert view.as_of == T + 100 * DAY  # the newest link
    authored = view.link_kind == list(LinkKind).index(LinkKind.AUTHORED)
    assert sorted(view.weight[authored].round(6)) == [0.5, 1.0]
    later = GraphView.build(store, as_of=T + 300 * DAY, half_life_days=100)
    assert sorted(later.weight[authored].round(6)) == [0.125, 0.25]


def test_as_of_leaves_out_later_and_suspect_links() -> None:
    suspect = commit_record("s", "bob@x.org", T, ["g"])
    suspect.links[:] = [
        Link(lk.id, lk.src, lk.dst, lk.kind, lk.time, lk.weight, int(Flag.TIME_SUSPECT))
        for lk in suspect.links
    ]
    store = store_of(
        [
            commit_record("a", "ada@x.org", T, ["f"]),
            commit_record("b", "ada@x.org", T + 10 * DAY, ["f"]),
            suspect,
        ]
    )
    everything = GraphView.build(store)
    assert everything.n_links == 6
    assert everything.as_of == T + 10 * DAY  # suspect times do not set the moment
    then = GraphView.build(store, as_of=T + DAY)
    assert then.n_links == 2
    ada = then.index_of(Node.person("ada@x.org").id)
    assert then.last_active[ada] == T


def test_matrix_weighs_each_kind_forward_and_backward() -> None:
    view = GraphView.build(sample_store())
    ada = view.index_of(Node.person("ada@example.org").id)
    c1 = view.index_of(Node.make(NodeKind.COMMIT, "c1" * 20).id)
    decay = float(view.weight[(view.src == ada) & (view.dst == c1)][0])
    matrix = view.matrix({"authored": (2.0, 0.5)})
    assert matrix[ada, c1] == pytest.approx(2.0 * decay)
    assert matrix[c1, ada] == pytest.approx(0.5 * decay)
    assert matrix.nnz == 6  # three authored links, both ways
    assert view.matrix({"authored": (2.0, 0.5)}) is matrix  # cached per view


def test_person_projections() -> None:
    view = GraphView.build(sample_store())
    ada = view.index_of(Node.person("ada@example.org").id)
    bob = view.index_of(Node.person("bob@example.org").id)
    incidence = view.person_item()
    assert set(incidence[ada].indices) == {
        view.index_of(Node.make(NodeKind.COMMIT, k * 20).id) for k in ("c1", "c2")
    }
    together = view.person_person()
    assert together[ada, bob] > 0 and together[ada, bob] == together[bob, ada]
    assert together.diagonal().sum() == 0


def test_cached_view_is_rebuilt_only_when_the_store_changes(tmp_path: object) -> None:
    store = sample_store()
    first = cached_view(store)
    assert cached_view(store) is first
    assert cached_view(store, half_life_days=30) is not first
    extra = commit_record("d4", "dan@x.org", T, ["new.c"])
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch([extra], [], {"n": 2}))
    second = cached_view(store)
    assert second is not first and second.n_nodes == first.n_nodes + 3


def test_links_to_unknown_nodes_are_left_out() -> None:
    store = sample_store()
    ghost = Link(make_id("ghost"), 1, 2, LinkKind.CITES, T)
    record = commit_record("e5", "eve@x.org", T, ["x"])
    record.links.append(ghost)
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch([record], [], {}))
    view = GraphView.build(store)
    assert view.n_links == 12 + 2  # authored and changed, not the ghost
    assert np.all(view.src < view.n_nodes)


def test_empty_store() -> None:
    view = GraphView.build(store_of([]))
    assert view.n_nodes == 0 and view.n_links == 0
    assert view.matrix({"authored": (1.0, 1.0)}).shape == (0, 0)


def test_chunked_compact_read_matches_rows_read_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from knotwork.graph import live
    from knotwork.graph.view import LINK_QUERY, NODE_QUERY

    store = sample_store()
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        node_rows = cursor.execute(NODE_QUERY).fetchall()
        link_rows = cursor.execute(LINK_QUERY + " ORDER BY rowid").fetchall()
    finally:
        raw.close()
    monkeypatch.setattr(live, "CHUNK", 5)  # several chunks, and growing past the first guess
    chunked, plain = GraphView.build(store), GraphView.from_rows(node_rows, link_rows)
    for name in ("ids", "kind", "flags", "src", "dst", "link_kind", "time", "weight"):
        assert np.array_equal(getattr(chunked, name), getattr(plain, name)), name
    assert list(chunked.keys) == list(plain.keys)
    assert chunked.src.dtype == np.int32 and chunked.link_kind.dtype == np.int8
    assert chunked.nbytes == 22 * chunked.n_links
