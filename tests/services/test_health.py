"""Health metrics against small readable references on hand-made graphs."""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable

import networkx as nx
import numpy as np
import pytest

from knotwork.graph.sample import sample_records
from knotwork.graph.view import GraphView
from knotwork.ingest.base import Batch
from knotwork.services.health import health, health_of_view
from knotwork.services.health_base import people_graph
from knotwork.services.health_growth import fit_exponent, series
from knotwork.services.health_inequality import gini, lorenz, periphery
from knotwork.services.health_structure import ei_index, relay_depth, walls_vs_work
from knotwork.services.health_truck import authors_of, truck_factor
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

DAY = 86_400
T0 = 1_600_000_000


def gini_reference(values: list[float]) -> float:
    """Mean absolute difference over all ordered pairs, over twice the mean."""
    n = len(values)
    mean = sum(values) / n
    return sum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)


@pytest.mark.parametrize(
    "values",
    [[1, 1, 1, 1], [0, 0, 0, 1], [1, 2, 3, 4], [5, 0, 2, 9, 1, 1, 3], [0.1, 100.0]],
)
def test_gini_matches_pairwise_reference(values: list[float]) -> None:
    assert gini(values) == pytest.approx(gini_reference(values))


def test_lorenz_of_known_vector() -> None:
    xs, ys = lorenz([1, 1, 2], points=4)
    assert xs == pytest.approx([0, 1 / 3, 2 / 3, 1], abs=1e-6)
    assert ys == pytest.approx([0, 0.25, 0.5, 1.0], abs=1e-6)


def test_ei_index_of_known_partition() -> None:
    # two triangles joined by one tie: 6 internal ties, 1 external
    ties = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]
    overall, per_group = ei_index([0, 0, 0, 1, 1, 1], ties)
    assert overall == pytest.approx((1 - 6) / 7)
    assert per_group == {0: pytest.approx((1 - 3) / 4), 1: pytest.approx((1 - 3) / 4)}


def truck_reference(authors: dict[str, set[Hashable]]) -> int:
    """Brute force lower bound: the fewest people whose leaving orphans > half the files."""
    people = sorted({p for a in authors.values() for p in a}, key=str)
    for size in range(len(people) + 1):
        for gone in itertools.combinations(people, size):
            orphaned = sum(1 for a in authors.values() if not a - set(gone))
            if orphaned > len(authors) / 2:
                return size
    return len(people)


def test_truck_factor_of_known_authorship_table() -> None:
    # ada created and keeps a.c, b.c, c.c; bob created d.c, e.c; carol made f.c; bob touched
    # a.c once (not enough to become an author of it)
    table = [
        ("ada", "a.c", 1),
        ("ada", "a.c", 2),
        ("bob", "a.c", 3),
        ("ada", "b.c", 1),
        ("ada", "c.c", 1),
        ("bob", "d.c", 1),
        ("bob", "e.c", 2),
        ("carol", "f.c", 5),
    ]
    authors = authors_of(table)
    assert authors["a.c"] == {"ada"}
    assert authors["d.c"] == {"bob"}
    # removing ada orphans 3 of 6 files (not more than half); bob then makes it 5 of 6
    assert truck_factor(authors) == 2 == truck_reference(authors)


def test_doa_threshold_makes_a_heavy_late_contributor_an_author() -> None:
    table = [("ada", "x.c", 0)] + [("bob", "x.c", t) for t in range(1, 12)]
    # bob: 3.293 + 0.164 * 11 - 0.321 ln 2 = 4.874; ada: 4.391 + 0.164 - 0.321 ln 12 = 3.758,
    # 0.77 of bob's: both are authors
    assert authors_of(table)["x.c"] == {"ada", "bob"}
    table += [("bob", "x.c", t) for t in range(12, 16)]
    # bob: 5.530; ada: 4.555 - 0.321 ln 16 = 3.665, 0.66 of bob's: the creator drops out
    assert authors_of(table)["x.c"] == {"bob"}


def test_truck_factor_greedy_agrees_with_brute_force_on_random_tables() -> None:
    rng = np.random.default_rng(4)
    for _ in range(30):
        table = [
            (f"p{rng.integers(5)}", f"f{rng.integers(8)}", int(rng.integers(100)))
            for _ in range(20)
        ]
        authors = authors_of(table)
        greedy = truck_factor(authors)
        # the greedy answer is never below the true minimum and rarely above it
        assert greedy >= truck_reference(authors)
        assert greedy <= truck_reference(authors) + 1


def test_growth_exponent_recovers_known_b() -> None:
    rng = np.random.default_rng(0)
    n = np.geomspace(20, 5000, 30)
    m = 0.7 * n**1.3 * np.exp(rng.normal(0, 0.05, len(n)))
    fit = fit_exponent(n.tolist(), m.tolist())
    assert fit.b == pytest.approx(1.3, abs=0.03)
    assert fit.low < 1.3 < fit.high
    assert fit.high - fit.low < 0.1
    # against scipy's regression
    from scipy.stats import linregress

    assert fit.b == pytest.approx(linregress(np.log(n), np.log(m)).slope)


def _view(nodes: list[tuple[int, str, str]], links: list[tuple[int, int, str, int]]) -> GraphView:
    return GraphView.from_rows(
        [(i, kind, key, 0) for i, kind, key in nodes],
        [(s, d, kind, t, 1.0, 0) for s, d, kind, t in links],
        as_of=T0 + 400 * DAY,
    )


def _org(n_units: int = 2, per_unit: int = 5) -> tuple[list[tuple[int, str, str]], list[int]]:
    nodes = [(1000 + u, "org", f"unit{u}") for u in range(n_units)]
    people = list(range(1, n_units * per_unit + 1))
    nodes += [(p, "person", f"p{p}@x.org") for p in people]
    return nodes, people


def test_walls_vs_work_counts_crossing_ties_and_reporting_lines() -> None:
    nodes, people = _org()
    links = [(p, 1000 + (p - 1) // 5, "member_of", T0) for p in people]
    # inside unit 0: 1-2, 2-3; across: 1-6, 2-7, 3-8, 4-9; inside unit 1: 6-7
    work = [(1, 2), (2, 3), (1, 6), (2, 7), (3, 8), (4, 9), (6, 7)]
    links += [(a, b, "cites", T0) for a, b in work]
    links += [(2, 1, "reports_to", T0), (6, 1, "reports_to", T0)]
    view = _view(nodes, links)
    graph = people_graph(view)
    groups = np.zeros(graph.n, dtype=np.int64)
    metric = walls_vs_work(view, graph, groups, k_min=3)
    assert metric.value == pytest.approx(4 / 7, abs=1e-4)
    assert metric.details["ties"] == 7
    assert metric.details["along_reporting_line"] == 2  # 1-2 and 1-6
    assert metric.details["matrix"] == [[2, 4], [4, 1]]
    # people 4, 8, 9 work only across; 1 has 1 of 2, 3 has 1 of 2 (not "mostly")
    assert metric.details["mostly_outside"] == ["p4@x.org", "p8@x.org", "p9@x.org"]


def test_walls_vs_work_needs_an_org_chart() -> None:
    view = _view([(1, "person", "a"), (2, "person", "b")], [(1, 2, "cites", T0)])
    graph = people_graph(view)
    metric = walls_vs_work(view, graph, np.zeros(2, np.int64), 3)
    assert metric.value is None and "org chart" in metric.note


def test_periphery_counts_isolated_and_outer_shell_people() -> None:
    # a 6-clique (core 5), a tail of two people hanging from it (core 1), two isolated people
    nodes = [(p, "person", f"p{p}") for p in range(1, 11)]
    links = [(a, b, "cites", T0) for a, b in itertools.combinations(range(1, 7), 2)]
    links += [(1, 7, "cites", T0), (7, 8, "cites", T0)]
    view = _view(nodes, links)
    metric = periphery(people_graph(view), 3)
    assert metric.value == pytest.approx(4 / 10)
    assert metric.details["isolated_share"] == pytest.approx(0.2)
    reference = nx.core_number(nx.Graph([(a, b) for a, b, _, _ in links]))
    assert max(reference.values()) == metric.details["max_core"]


def test_relay_depth_follows_reply_chains() -> None:
    nodes = [(1, "person", "a"), (2, "person", "b")] + [
        (10 + i, "message", f"m{i}") for i in range(5)
    ]
    # m1 -> m0, m2 -> m1, m3 -> m2 (a chain of 3 hops), m4 -> m0
    links = [(11, 10, "replies", T0), (12, 11, "replies", T0), (13, 12, "replies", T0)]
    links += [(14, 10, "replies", T0), (1, 10, "authored", T0), (2, 11, "authored", T0)]
    metric = relay_depth(_view(nodes, links), 3)
    assert metric.details["histogram"] == {"1": 2, "2": 1, "3": 1}
    assert metric.value == pytest.approx((1 + 2 + 3 + 1) / 4)
    assert metric.details["max"] == 3


def test_growth_series_counts_active_people_and_pairs() -> None:
    nodes = [(p, "person", f"p{p}") for p in range(1, 7)] + [
        (100, "issue", "i1"),
        (101, "issue", "i2"),
    ]
    # period 0: p1, p2, p3 on issue i1 (3 pairs); period 1: p4-p5 direct, p6 on i2 alone
    links = [(p, 100, "authored", T0 + p) for p in (1, 2, 3)]
    links += [(4, 5, "mentions", T0 + 40 * DAY), (6, 101, "authored", T0 + 41 * DAY)]
    points = series(_view(nodes, links), 30)
    assert [(p["n"], p["m"]) for p in points] == [(3, 3), (3, 1)]


def test_health_explains_every_metric_and_networkx_agrees_on_modularity() -> None:
    nodes, people = _org(n_units=2, per_unit=6)
    links = [(p, 1000 + (p - 1) // 6, "member_of", T0) for p in people]
    pairs = list(itertools.combinations(range(1, 7), 2)) + list(
        itertools.combinations(range(7, 13), 2)
    )
    pairs += [(6, 7)]
    links += [(a, b, "cites", T0) for a, b in pairs]
    view = _view(nodes, links)
    report = health_of_view(view, k_min=3)
    for metric in report.metrics:
        assert metric.explanation and metric.reference
    silos = report.metric("silos")
    assert silos.value == pytest.approx((1 - 30) / 31, abs=1e-4)
    graph = nx.Graph(pairs)
    expected = nx.community.modularity(graph, [set(range(1, 7)), set(range(7, 13))])
    assert silos.details["modularity"] == pytest.approx(expected, abs=1e-3)
    walls = report.metric("walls_vs_work")
    assert walls.details["nmi"] == pytest.approx(1.0)
    assert walls.value == pytest.approx(1 / 31, abs=1e-4)
    brokers = report.metric("brokers")
    assert {b["person"] for b in brokers.details["top"][:2]} == {"p6@x.org", "p7@x.org"}
    assert math.isfinite(report.metric("authority_inequality").value)


def test_health_and_me_on_both_backends(store: Store) -> None:
    from knotwork.services.me import me

    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch(sample_records(), [], {}))
    report = health(store, k_min=3)
    assert report.metric("truck_factor").value == 1
    assert report.metric("truck_factor").details["areas"][0]["area"] == "drivers"
    assert report.people == 2
    assert me(store, "bob@example.org")["authority"]["rank"] == 1
