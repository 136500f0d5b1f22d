"""Synthetic work graphs: deterministic, of the asked size, shaped like real work."""

from __future__ import annotations

import numpy as np

from knotwork.graph.synthetic import SPAN, START, generate
from knotwork.graph.view import LINK_KINDS, NODE_KINDS, GraphView, LinkArrays, NodeArrays
from knotwork.model import Node, NodeKind


def test_same_seed_same_graph_other_seed_other_graph() -> None:
    a, b, c = generate(20_000, seed=4), generate(20_000, seed=4), generate(20_000, seed=5)
    for name in ("node_id", "src", "dst", "link_kind", "time"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.dst, c.dst)
    assert np.array_equal(a.link_ids(), b.link_ids())
    assert len(np.unique(a.link_ids())) == a.n_links


def test_sizes_ids_and_kinds() -> None:
    graph = generate(50_000, seed=1, people=300)
    assert graph.n_links == 50_000
    assert 4_000 < len(graph.node_id) < 6_000
    assert np.all(np.diff(graph.node_id) > 0)  # sorted, unique
    people = graph.node_kind == NODE_KINDS.index("person")
    assert people.sum() == 300
    first = int(np.flatnonzero(people)[0])
    assert Node.node_id(NodeKind.PERSON, graph.node_key[first]) == graph.node_id[first]
    assert np.isin(graph.src, graph.node_id).all() and np.isin(graph.dst, graph.node_id).all()
    kinds = {LINK_KINDS[k] for k in np.unique(graph.link_kind)}
    assert {"authored", "changed", "reviews", "replies", "cites", "member_of"} <= kinds
    items = {NODE_KINDS[k] for k in np.unique(graph.node_kind)}
    assert {"commit", "file", "message", "issue", "group"} <= items


def test_activity_is_heavy_tailed_and_grows_over_time() -> None:
    graph = generate(100_000, seed=2)
    people = graph.node_id[graph.node_kind == NODE_KINDS.index("person")]
    member = graph.link_kind == LINK_KINDS.index("member_of")
    counts = np.bincount(np.searchsorted(people, graph.src[np.isin(graph.src, people) & ~member]))
    top = np.sort(counts)[::-1]
    assert top[: len(top) // 10].sum() > 0.4 * top.sum()  # a tenth of people, most links
    assert np.all(np.diff(graph.time) >= 0)
    assert graph.time.min() >= START and graph.time.max() <= START + SPAN
    halves = np.histogram(graph.time, bins=2, range=(START, START + SPAN))[0]
    assert halves[1] > 1.5 * halves[0]


def test_people_mostly_work_in_their_group() -> None:
    graph = generate(50_000, seed=3)
    member = graph.link_kind == LINK_KINDS.index("member_of")
    group_of = dict(zip(graph.src[member].tolist(), graph.dst[member].tolist(), strict=True))
    authored = graph.link_kind == LINK_KINDS.index("authored")
    # the groups of items are not stored: two people who authored the same item are in the
    # same group far more often than two people picked at random (1 in the number of groups)
    by_item: dict[int, list[int]] = {}
    for s, d in zip(graph.src[authored].tolist(), graph.dst[authored].tolist(), strict=True):
        by_item.setdefault(d, []).append(group_of[s])
    pairs = [groups[0] == groups[1] for groups in by_item.values() if len(groups) > 1]
    n_groups = len(set(group_of.values()))
    assert len(pairs) > 100 and n_groups >= 10
    assert np.mean(pairs) > 0.6 > 3 / n_groups


def test_to_view_matches_a_view_from_rows() -> None:
    graph = generate(10_000, seed=6)
    view = graph.to_view(half_life_days=100)
    flags = np.zeros(len(graph.node_id), np.int64)
    nodes = NodeArrays(
        graph.node_id[::-1].copy(), graph.node_kind[::-1], flags, graph.node_key[::-1]
    )
    links = LinkArrays(
        graph.src, graph.dst, graph.link_kind, graph.time, graph.weight, np.zeros(10_000, np.int64)
    )
    again = GraphView.from_arrays(nodes, links, half_life_days=100)
    assert np.array_equal(view.src, again.src) and list(view.keys) == list(again.keys)
    assert view.as_of == int(graph.time.max())
    assert view.weight.max() == 1.0 and view.weight.min() > 0
    assert view.nbytes / view.n_links <= 24
    assert view.src.dtype == np.int32 and view.weight.dtype == np.float32


def test_records_carry_the_links() -> None:
    graph = generate(10_000, seed=8)
    records = list(graph.records())
    assert len(records) == 10_000
    assert [r.links[0].dst for r in records[:50]] == graph.dst[:50].tolist()
    assert {n.key for r in records[:50] for n in r.nodes} <= set(graph.node_key)
