"""PageRank: checked against a small readable reference and against networkx."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from knotwork.graph.rank import Walk, pagerank

Edges = list[tuple[int, int, float]]


def reference_pagerank(
    n: int,
    edges: Edges,
    damping: float = 0.85,
    personalization: list[float] | None = None,
    iterations: int = 1000,
) -> list[float]:
    """PageRank the slow, obvious way: move each node's rank along its out-links."""
    p = personalization or [1.0] * n
    p = [v / sum(p) for v in p]
    out: dict[int, dict[int, float]] = {i: {} for i in range(n)}
    for a, b, w in edges:
        out[a][b] = out[a].get(b, 0.0) + w
    rank = list(p)
    for _ in range(iterations):
        new = [(1 - damping) * p[i] for i in range(n)]
        for node in range(n):
            total = sum(out[node].values())
            if total == 0:  # dangling: jump like a teleport
                for i in range(n):
                    new[i] += damping * rank[node] * p[i]
                continue
            for target, weight in out[node].items():
                new[target] += damping * rank[node] * weight / total
        rank = new
    return rank


def matrix(n: int, edges: Edges) -> sp.csr_matrix:
    rows, cols, data = zip(*edges, strict=True) if edges else ((), (), ())
    return sp.csr_matrix((data, (rows, cols)), shape=(n, n))


def to_networkx(n: int, edges: Edges) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    for a, b, w in edges:
        old = graph.get_edge_data(a, b, {"weight": 0.0})["weight"]
        graph.add_edge(a, b, weight=old + w)
    return graph


def random_graph(n: int, m: int, seed: int) -> Edges:
    rng = random.Random(seed)
    return [(rng.randrange(n), rng.randrange(n), rng.choice([0.5, 1.0, 2.0])) for _ in range(m)]


FIXED: dict[str, tuple[int, Edges]] = {
    "cycle": (3, [(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)]),
    # node 5 dangles; 3 -> 4 is counted twice; weights differ
    "dangling": (
        6,
        [
            (0, 1, 1.0),
            (0, 2, 3.0),
            (1, 2, 1.0),
            (2, 0, 1.0),
            (3, 4, 1.0),
            (3, 4, 1.0),
            (4, 5, 2.0),
            (2, 5, 0.5),
        ],
    ),
    "star": (5, [(i, 0, 1.0) for i in range(1, 5)] + [(0, 1, 1.0)]),
    "random": (60, random_graph(60, 240, seed=7)),
}


@pytest.mark.parametrize("name", sorted(FIXED))
@pytest.mark.parametrize("damping", [0.85, 0.5])
def test_pagerank_matches_reference_and_networkx(name: str, damping: float) -> None:
    n, edges = FIXED[name]
    ours = pagerank(matrix(n, edges), damping=damping, tol=1e-12).vector
    theirs = nx.pagerank(to_networkx(n, edges), alpha=damping, tol=1e-13, max_iter=1000)
    assert np.allclose(ours, [theirs[i] for i in range(n)], atol=1e-8)
    assert np.allclose(ours, reference_pagerank(n, edges, damping), atol=1e-8)
    assert ours.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["dangling", "random"])
def test_personalized_pagerank_matches_reference_and_networkx(name: str) -> None:
    n, edges = FIXED[name]
    seeds = [0.0] * n
    seeds[0], seeds[2] = 3.0, 1.0
    ours = pagerank(matrix(n, edges), personalization=seeds, tol=1e-12).vector
    theirs = nx.pagerank(
        to_networkx(n, edges), personalization=dict(enumerate(seeds)), tol=1e-13, max_iter=1000
    )
    assert np.allclose(ours, [theirs[i] for i in range(n)], atol=1e-8)
    assert np.allclose(ours, reference_pagerank(n, edges, 0.85, seeds), atol=1e-8)
    # mass is concentrated near the seeds: the seed holds more than the uniform share
    assert ours[0] > 1 / n


def test_warm_start_converges_faster_after_a_small_change() -> None:
    n, edges = FIXED["random"]
    first = pagerank(matrix(n, edges), tol=1e-10)
    changed = [*edges, (5, 6, 1.0)]
    cold = pagerank(matrix(n, changed), tol=1e-10)
    warm = pagerank(matrix(n, changed), tol=1e-10, start=first.vector)
    assert warm.converged and cold.converged
    assert warm.iterations < cold.iterations
    assert np.allclose(warm.vector, cold.vector, atol=1e-8)


def test_walk_reuses_its_transition_for_many_queries() -> None:
    n, edges = FIXED["dangling"]
    walk = Walk(matrix(n, edges))
    for seed in range(n):
        p = np.eye(n)[seed]
        assert np.allclose(
            walk.rank(personalization=p, tol=1e-12).vector,
            reference_pagerank(n, edges, 0.85, list(p)),
            atol=1e-8,
        )


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="square"):
        Walk(sp.csr_matrix((2, 3)))
    with pytest.raises(ValueError, match="damping"):
        pagerank(matrix(3, FIXED["cycle"][1]), damping=1.0)
    with pytest.raises(ValueError, match="negative"):
        pagerank(matrix(3, FIXED["cycle"][1]), personalization=[1.0, -1.0, 0.0])


def test_empty_graph() -> None:
    assert pagerank(sp.csr_matrix((0, 0))).vector.size == 0
