"""The fast paths of the health metrics against their plain readable versions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable

import numpy as np

from knotwork.graph import centrality, communities
from knotwork.graph.synthetic import generate
from knotwork.graph.view import GraphView
from knotwork.services.health import groups_of, health_of_view, structure
from knotwork.services.health_base import people_graph
from knotwork.services.health_structure import relay_depth
from knotwork.services.health_truck import (
    authors_from_view,
    authors_of,
    changes_from_view,
    truck_factor,
)


def greedy_reference(authors: dict[str, set[Hashable]]) -> int:
    """The greedy truck factor as Avelino et al. state it: recount after every removal."""
    files = {f: set(a) for f, a in authors.items()}
    removed = 0
    while True:
        if sum(1 for a in files.values() if not a) > len(files) / 2:
            return removed
        count: Counter[Hashable] = Counter(p for a in files.values() for p in a)
        if not count:
            return removed
        top = min(count, key=lambda p: (-count[p], str(p)))
        for a in files.values():
            a.discard(top)
        removed += 1


def test_truck_factor_matches_recounting_greedy_on_random_tables() -> None:
    rng = np.random.default_rng(11)
    for _ in range(200):
        table = [
            (f"p{rng.integers(12)}", f"f{rng.integers(30)}", int(rng.integers(50)))
            for _ in range(int(rng.integers(1, 120)))
        ]
        authors = authors_of(table)
        assert truck_factor(authors) == greedy_reference(authors)
    assert truck_factor({}) == 0 == greedy_reference({})


def test_authors_from_view_equals_the_event_table_version() -> None:
    view = generate(40_000, people=400, seed=3).to_view()
    fast = authors_from_view(view)
    assert fast == authors_of(changes_from_view(view))
    assert sum(1 for a in fast.values() if a) > 50  # the synthetic graph has real authorship


def test_structure_builds_igraph_once_and_matches_plain_calls() -> None:
    view = generate(40_000, people=3_000, seed=5).to_view()
    graph = people_graph(view)
    shared = structure(view, samples=64)
    built = graph.igraph()
    assert graph.igraph() is built  # one igraph graph for every metric
    labels, quality = communities.leiden(graph.adjacency, seed=0)
    assert np.array_equal(shared.groups, labels)
    assert shared.modularity == quality
    assert np.array_equal(shared.cores, centrality.core_number(graph.adjacency))
    plain = centrality.betweenness(graph.adjacency, samples=64, seed=0)
    assert np.array_equal(shared.betweenness, plain)
    # the default sample count shares Leiden, cores and betweenness with the explicit one
    again = structure(view)
    assert again.samples == 64
    assert again.groups is shared.groups and again.betweenness is shared.betweenness
    assert groups_of(view)[1] is shared.groups
    report = health_of_view(view, k_min=5, samples=64)
    assert report.metric("brokers").details["samples"] == 64


def test_relay_depth_leaves_out_items_on_reply_cycles() -> None:
    T0 = 1_600_000_000
    nodes = [(10 + i, "message", f"m{i}") for i in range(6)]
    # m1 -> m0, m2 -> m1 (a clean chain); m3 -> m4 -> m5 -> m3 (a cycle)
    links = [(11, 10, "cites", T0), (12, 11, "cites", T0)]
    links += [(13, 14, "cites", T0), (14, 15, "cites", T0), (15, 13, "cites", T0)]
    view = GraphView.from_rows(
        [(i, kind, key, 0) for i, kind, key in nodes],
        [(s, d, kind, t, 1.0, 0) for s, d, kind, t in links],
    )
    metric = relay_depth(view, 3)
    assert metric.details["histogram"] == {"1": 1, "2": 1}
    assert metric.details["items_in_cycles"] == 3
    assert "3 item(s)" in metric.note
