"""Connected components and deterministic label propagation, the local twins of the Spark jobs.

Both run on an undirected weighted graph given as a sparse matrix (``W + W^T`` is used, so a
directed matrix may be passed). They are written so that :mod:`knotwork.scale.spark` computes
exactly the same answer on a cluster:

* **components**: each node is labelled by the smallest node index of its (weakly) connected
  component.
* **label propagation** (Raghavan, Albert, Kumara 2007), synchronous and deterministic: labels
  start as a permutation of the node indices drawn from ``seed``; in each round every node takes
  the label with the largest summed weight among its neighbours, its own label counting as one
  more neighbour with the node's largest link weight (which damps the oscillation of
  synchronous updates on bipartite graphs); ties go to the smallest label; scores are rounded
  to 9 decimals before comparing, so that the order of floating-point sums cannot change a
  result. It stops when no label changes or after ``max_rounds``.

>>> import scipy.sparse as sp
>>> W = sp.csr_matrix(([1.0, 1.0, 1.0, 1.0], ([0, 1, 3, 4], [1, 2, 4, 5])), shape=(6, 6))
>>> components(W).tolist()
[0, 0, 0, 3, 3, 3]
>>> labels = label_propagation(W, seed=1)
>>> len(set(labels[:3].tolist())), len(set(labels[3:].tolist())), bool(labels[0] != labels[3])
(1, 1, True)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

IntArray = npt.NDArray[np.int64]

#: Decimals kept of a label's score before labels are compared (see the module docstring).
SCORE_DECIMALS = 9


def symmetric(adjacency: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """``W + W^T`` without the diagonal, as CSR with summed duplicates."""
    matrix = sp.csr_matrix(adjacency, dtype=np.float64)
    both = (matrix + matrix.T).tocsr()
    both.setdiag(0)
    both.eliminate_zeros()
    both.sum_duplicates()
    return both


def components(adjacency: sp.spmatrix | sp.sparray) -> IntArray:
    """The weakly connected component of each node, named by its smallest node index."""
    n = adjacency.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    _, raw = connected_components(adjacency, directed=True, connection="weak")
    smallest = np.full(int(raw.max()) + 1, n, dtype=np.int64)
    np.minimum.at(smallest, raw, np.arange(n, dtype=np.int64))
    named: IntArray = smallest[raw]
    return named


def initial_labels(n: int, seed: int) -> IntArray:
    """The starting labels of :func:`label_propagation`: a permutation of ``0..n-1``."""
    return np.random.default_rng(seed).permutation(n).astype(np.int64)


def label_propagation(
    adjacency: sp.spmatrix | sp.sparray, *, seed: int = 0, max_rounds: int = 30
) -> IntArray:
    """Labels of synchronous, deterministic label propagation (see the module docstring)."""
    graph = symmetric(adjacency).tocoo()
    n = graph.shape[0]
    labels = initial_labels(n, seed)
    rows, cols, weights = graph.row.astype(np.int64), graph.col.astype(np.int64), graph.data
    own = np.zeros(n)
    np.maximum.at(own, rows, weights)
    nodes = np.arange(n, dtype=np.int64)
    for _ in range(max_rounds):
        node = np.concatenate([rows, nodes])
        label = np.concatenate([labels[cols], labels])
        weight = np.concatenate([weights, own])
        keyed = sp.coo_matrix((weight, (node, label)), shape=(n, n)).tocsr()
        keyed.sum_duplicates()
        node_of = np.repeat(nodes, np.diff(keyed.indptr))
        scores = np.round(keyed.data, SCORE_DECIMALS)
        order = np.lexsort((keyed.indices, -scores, node_of))
        first = order[np.r_[True, node_of[order][1:] != node_of[order][:-1]]]
        new = labels.copy()
        new[node_of[first]] = keyed.indices[first]
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def same_partition(a: IntArray, b: IntArray) -> bool:
    """Whether two labellings group the nodes the same way (label names aside).

    >>> same_partition(np.array([5, 5, 7]), np.array([1, 1, 0]))
    True
    """
    if a.shape != b.shape:
        return False
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


__all__ = [
    "SCORE_DECIMALS",
    "components",
    "initial_labels",
    "label_propagation",
    "same_partition",
    "symmetric",
]
