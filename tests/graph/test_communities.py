"""Communities: modularity against a plain reference and networkx; Leiden against baselines."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from knotwork.errors import InputError
from knotwork.graph.communities import (
    label_propagation,
    leiden,
    louvain,
    modularity,
    to_igraph,
)


def planted(groups: int, size: int, p_in: float, p_out: float, seed: int) -> sp.csr_matrix:
    """A weighted planted-partition graph: ``groups`` blocks of ``size`` nodes."""
    rng = np.random.default_rng(seed)
    n = groups * size
    block = np.arange(n) // size
    same = block[:, None] == block[None, :]
    chance = np.where(same, p_in, p_out)
    upper = np.triu(rng.random((n, n)) < chance, k=1)
    weights = np.triu(rng.uniform(0.5, 2.0, (n, n)), k=1) * upper
    return sp.csr_matrix(weights + weights.T)


def reference_modularity(adjacency: sp.csr_matrix, labels: list[int], gamma: float = 1.0) -> float:
    """Q = 1/2m sum_ij [A_ij - gamma k_i k_j / 2m] delta(c_i, c_j), pair by pair."""
    dense = adjacency.toarray()
    np.fill_diagonal(dense, 0)
    degree = dense.sum(axis=1)
    two_m = dense.sum()
    total = 0.0
    for i in range(len(labels)):
        for j in range(len(labels)):
            if labels[i] == labels[j]:
                total += dense[i, j] - gamma * degree[i] * degree[j] / two_m
    return float(total / two_m)


def to_networkx(adjacency: sp.csr_matrix) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(adjacency.shape[0]))
    upper = sp.triu(adjacency, k=1).tocoo()
    graph.add_weighted_edges_from(
        zip(upper.row.tolist(), upper.col.tolist(), upper.data.tolist(), strict=True)
    )
    return graph


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_modularity_matches_reference_and_networkx(seed: int, gamma: float) -> None:
    adjacency = planted(4, 12, 0.4, 0.05, seed)
    labels = np.random.default_rng(seed).integers(0, 5, adjacency.shape[0])
    fast = modularity(adjacency, labels, resolution=gamma)
    assert fast == pytest.approx(reference_modularity(adjacency, labels.tolist(), gamma))
    parts = [set(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)]
    expected = nx.community.modularity(to_networkx(adjacency), parts, resolution=gamma)
    assert fast == pytest.approx(expected)


def test_leiden_recovers_planted_groups_and_beats_baselines() -> None:
    adjacency = planted(5, 20, 0.35, 0.02, seed=7)
    truth = np.arange(100) // 20
    labels, quality = leiden(adjacency, seed=3)
    assert quality == pytest.approx(modularity(adjacency, labels))
    # the same partition as the planted one, up to renaming
    pairs = {(int(a), int(b)) for a, b in zip(labels, truth, strict=True)}
    assert len(pairs) == 5 and len(set(labels.tolist())) == 5
    assert labels.dtype == np.int32
    assert quality >= louvain(adjacency, seed=3)[1] - 1e-9
    assert quality >= label_propagation(adjacency, seed=3)[1] - 1e-9
    # never below one plain igraph call with the same seed
    graph, weights = to_igraph(adjacency)
    plain = graph.community_leiden(objective_function="modularity", weights=weights)
    assert quality >= modularity(adjacency, plain.membership) - 1e-9
    # and as good as networkx's Louvain
    found = nx.community.louvain_communities(to_networkx(adjacency), seed=3)
    assert quality >= nx.community.modularity(to_networkx(adjacency), found) - 1e-6


def test_leiden_is_deterministic_and_resolution_splits_more() -> None:
    adjacency = planted(3, 30, 0.3, 0.03, seed=11)
    first, q1 = leiden(adjacency, seed=5)
    again, q2 = leiden(adjacency, seed=5)
    assert first.tolist() == again.tolist() and q1 == q2
    fine, _ = leiden(adjacency, resolution=4.0, seed=5)
    assert len(set(fine.tolist())) > len(set(first.tolist()))


def test_edge_cases() -> None:
    empty = sp.csr_matrix((4, 4))
    assert leiden(empty)[0].tolist() == [0, 1, 2, 3]
    assert modularity(empty, [0, 0, 1, 1]) == 0.0
    assert louvain(empty)[1] == 0.0
    with pytest.raises(InputError):
        leiden(sp.csr_matrix((3, 4)))
