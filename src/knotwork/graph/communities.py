"""Communities of a symmetric weighted graph: Leiden, and Louvain / label propagation baselines.

Every function takes a symmetric ``scipy.sparse`` adjacency (weights on both triangles, the
diagonal ignored) and returns one ``int32`` label per row. :func:`leiden` maximises
modularity (Newman and Girvan 2004) with the Leiden algorithm (Traag, Waltman and van Eck
2019, through igraph); it goes on iterating from its own answer while modularity still grows,
so it never ends below one plain igraph call with the same seed. :func:`modularity` is
computed here with sparse sums, so that every method is scored the same way.

>>> import scipy.sparse as sp
>>> rows = [0, 0, 1, 3, 3, 4, 2]
>>> cols = [1, 2, 2, 4, 5, 5, 3]
>>> upper = sp.coo_matrix((np.ones(7), (rows, cols)), shape=(6, 6))
>>> adjacency = (upper + upper.T).tocsr()
>>> labels, q = leiden(adjacency)
>>> labels.tolist(), round(q, 3)
([0, 0, 0, 1, 1, 1], 0.357)
>>> round(modularity(adjacency, labels), 3)
0.357
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import igraph as ig
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knotwork.errors import InputError

LabelArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]


def _check(adjacency: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    matrix = sp.csr_matrix(adjacency)
    if matrix.shape[0] != matrix.shape[1]:
        raise InputError(f"adjacency must be square, got {matrix.shape}", place="communities")
    return matrix


def to_igraph(adjacency: sp.spmatrix | sp.sparray) -> tuple[ig.Graph, FloatArray]:
    """The undirected igraph graph of a symmetric adjacency (upper triangle, no loops), with
    its edge weights as a separate array (faster than an edge attribute).

    >>> graph, weights = to_igraph(sp.csr_matrix(np.array([[0, 2.0], [2.0, 0]])))
    >>> graph.vcount(), graph.ecount(), weights.tolist()
    (2, 1, [2.0])
    """
    matrix = _check(adjacency)
    upper = sp.triu(matrix, k=1).tocoo()
    keep = upper.data > 0
    edges = np.column_stack([upper.row[keep], upper.col[keep]]).tolist()  # faster than arrays
    graph = ig.Graph(n=matrix.shape[0], edges=edges, directed=False)
    return graph, np.asarray(upper.data[keep], dtype=np.float64)


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Run igraph's randomised algorithms from ``seed``, then give back its default generator."""
    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


def _relabel(membership: list[int] | npt.NDArray[np.int64]) -> LabelArray:
    """Labels numbered 0, 1, ... by first appearance (so that equal partitions compare equal)."""
    values = np.asarray(membership, dtype=np.int64)
    if not len(values):
        return np.zeros(0, dtype=np.int32)
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank[inverse].astype(np.int32)


def modularity(
    adjacency: sp.spmatrix | sp.sparray, labels: npt.ArrayLike, *, resolution: float = 1.0
) -> float:
    """Newman-Girvan modularity ``Q = sum_c [w_c / 2m - resolution * (d_c / 2m) ** 2]`` of a
    partition, where ``w_c`` is twice the weight inside group ``c`` and ``d_c`` its total
    degree (self-loops ignored). 0 for a graph without links.

    >>> import scipy.sparse as sp
    >>> two = sp.csr_matrix(np.array([[0, 1.0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]))
    >>> modularity(two, [0, 0, 1, 1])
    0.5
    """
    matrix = _check(adjacency).tocoo()
    off = matrix.row != matrix.col
    row, col, data = matrix.row[off], matrix.col[off], matrix.data[off].astype(np.float64)
    total = float(data.sum())
    if total <= 0:
        return 0.0
    group = np.asarray(labels, dtype=np.int64)
    k = int(group.max()) + 1 if len(group) else 0
    inside = np.bincount(group[row], weights=data * (group[row] == group[col]), minlength=k)
    degree = np.bincount(group[row], weights=data, minlength=k)
    return float(inside.sum() / total - resolution * np.square(degree / total).sum())


def leiden(
    adjacency: sp.spmatrix | sp.sparray,
    *,
    resolution: float = 1.0,
    seed: int = 0,
    max_rounds: int = 1,
    built: tuple[ig.Graph, FloatArray] | None = None,
) -> tuple[LabelArray, float]:
    """Groups by the Leiden algorithm (Traag, Waltman, van Eck 2019) maximising modularity.

    One igraph call of two iterations, then further calls started from the answer while
    modularity grows by more than 1e-7 (at most ``max_rounds``; each costs about one call).
    Returns the labels (0, 1, ... by first appearance) and the modularity at ``resolution``.
    ``built``: the result of :func:`to_igraph` on ``adjacency`` when the caller has it already.
    """
    graph, weights = to_igraph(adjacency) if built is None else built
    if graph.ecount() == 0:
        return np.arange(graph.vcount(), dtype=np.int32), 0.0
    with _seeded(seed):
        found = graph.community_leiden(
            objective_function="modularity",
            weights=weights,
            resolution=resolution,
            n_iterations=2,
        )
        membership = list(found.membership)
        best = modularity(adjacency, membership, resolution=resolution)
        for _ in range(max_rounds):
            again = graph.community_leiden(
                objective_function="modularity",
                weights=weights,
                resolution=resolution,
                initial_membership=membership,
                n_iterations=1,
            )
            quality = modularity(adjacency, again.membership, resolution=resolution)
            if quality <= best + 1e-7:
                break
            membership, best = list(again.membership), quality
    return _relabel(membership), best


def _baseline(
    adjacency: sp.spmatrix | sp.sparray,
    seed: int,
    call: Callable[[ig.Graph, FloatArray], ig.VertexClustering],
) -> tuple[LabelArray, float]:
    graph, weights = to_igraph(adjacency)
    if graph.ecount() == 0:
        return np.arange(graph.vcount(), dtype=np.int32), 0.0
    with _seeded(seed):
        labels = _relabel(call(graph, weights).membership)
    return labels, modularity(adjacency, labels)


def louvain(
    adjacency: sp.spmatrix | sp.sparray, *, resolution: float = 1.0, seed: int = 0
) -> tuple[LabelArray, float]:
    """Groups by the Louvain method (Blondel et al. 2008, igraph's multilevel), the baseline.

    >>> import scipy.sparse as sp
    >>> two = sp.csr_matrix(np.array([[0, 1.0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]))
    >>> louvain(two)[0].tolist()
    [0, 0, 1, 1]
    """
    return _baseline(
        adjacency,
        seed,
        lambda g, w: g.community_multilevel(weights=w, resolution=resolution),
    )


def label_propagation(
    adjacency: sp.spmatrix | sp.sparray, *, seed: int = 0
) -> tuple[LabelArray, float]:
    """Groups by weighted label propagation (Raghavan, Albert, Kumara 2007), the baseline.

    >>> import scipy.sparse as sp
    >>> two = sp.csr_matrix(np.array([[0, 1.0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]))
    >>> label_propagation(two)[0].tolist()
    [0, 0, 1, 1]
    """
    return _baseline(adjacency, seed, lambda g, w: g.community_label_propagation(weights=w))


__all__ = ["label_propagation", "leiden", "louvain", "modularity", "to_igraph"]
