"""Centrality against networkx and a plain Brandes reference."""

from __future__ import annotations

from collections import deque

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from knotwork.errors import InputError
from knotwork.graph.centrality import betweenness, constraint, core_number


def random_graph(n: int, p: float, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < p, k=1) * rng.uniform(0.5, 3.0, (n, n))
    return sp.csr_matrix(upper + upper.T)


def to_networkx(adjacency: sp.csr_matrix) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(adjacency.shape[0]))
    upper = sp.triu(adjacency, k=1).tocoo()
    graph.add_weighted_edges_from(
        zip(upper.row.tolist(), upper.col.tolist(), upper.data.tolist(), strict=True)
    )
    return graph


def brandes(adjacency: sp.csr_matrix, sources: list[int]) -> np.ndarray:
    """Brandes (2001) from ``sources`` on hop counts, halved (undirected pairs)."""
    n = adjacency.shape[0]
    neighbours = [
        adjacency.indices[adjacency.indptr[v] : adjacency.indptr[v + 1]] for v in range(n)
    ]
    result = np.zeros(n)
    for s in sources:
        order, paths, dist = [], np.zeros(n), np.full(n, -1)
        before: list[list[int]] = [[] for _ in range(n)]
        paths[s], dist[s] = 1, 0
        queue = deque([s])
        while queue:
            v = queue.popleft()
            order.append(v)
            for w in neighbours[v]:
                if dist[w] < 0:
                    dist[w] = dist[v] + 1
                    queue.append(w)
                if dist[w] == dist[v] + 1:
                    paths[w] += paths[v]
                    before[w].append(v)
        delta = np.zeros(n)
        for w in reversed(order):
            for v in before[w]:
                delta[v] += paths[v] / paths[w] * (1 + delta[w])
            if w != s:
                result[w] += delta[w]
    return result / 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_betweenness_matches_networkx_and_reference(seed: int) -> None:
    adjacency = random_graph(40, 0.1, seed)
    exact = betweenness(adjacency)
    expected = nx.betweenness_centrality(to_networkx(adjacency), normalized=False)
    assert exact == pytest.approx([expected[i] for i in range(40)])
    assert exact == pytest.approx(brandes(adjacency, list(range(40))))


def test_sampled_betweenness_is_the_rescaled_pivot_sum_and_unbiased() -> None:
    adjacency = random_graph(60, 0.08, seed=4)
    exact = betweenness(adjacency)
    pivots = sorted(np.random.default_rng(9).choice(60, size=15, replace=False).tolist())
    sampled = betweenness(adjacency, samples=15, seed=9)
    assert sampled == pytest.approx(brandes(adjacency, pivots) * 60 / 15)
    mean = np.mean([betweenness(adjacency, samples=15, seed=s) for s in range(60)], axis=0)
    top = np.argsort(-exact)[:5]
    assert np.abs(mean[top] - exact[top]).max() < 0.2 * exact[top].max()
    assert betweenness(adjacency, samples=100).tolist() == exact.tolist()
    with pytest.raises(InputError):
        betweenness(adjacency, samples=0)


@pytest.mark.parametrize("seed", [0, 5])
def test_core_number_and_constraint_match_networkx(seed: int) -> None:
    adjacency = random_graph(50, 0.12, seed)
    adjacency = sp.csr_matrix(adjacency + sp.csr_matrix(([], ([], [])), shape=(50, 50)))
    graph = to_networkx(adjacency)
    cores = nx.core_number(graph)
    assert core_number(adjacency).tolist() == [cores[i] for i in range(50)]
    burt = nx.constraint(graph, weight="weight")
    ours = constraint(adjacency)
    for i in range(50):
        if graph.degree(i) == 0:
            assert np.isnan(ours[i])
        else:
            assert ours[i] == pytest.approx(burt[i])


def test_isolated_node_and_empty_graph() -> None:
    lonely = sp.csr_matrix(np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]]))
    assert core_number(lonely).tolist() == [1, 1, 0]
    assert np.isnan(constraint(lonely)[2])
    assert betweenness(sp.csr_matrix((0, 0))).tolist() == []
