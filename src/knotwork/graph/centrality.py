"""Centrality of people in a symmetric graph: betweenness (exact or sampled), k-core, constraint.

Every function takes a symmetric ``scipy.sparse`` adjacency (the diagonal is ignored) and
returns one value per row; igraph does the work. Callers that run several of them on one
graph pass ``built``, the result of :func:`~knotwork.graph.communities.to_igraph` on that
adjacency, so that the igraph graph is built once.

- :func:`betweenness`: how many shortest paths (in hops) pass through each node (Freeman 1977),
  by Brandes' algorithm (2001); with ``samples`` it runs from that many random pivot sources
  and rescales by ``n / samples`` (Brandes and Pich 2007), an unbiased estimate.
- :func:`core_number`: the largest ``k`` such that the node is in the k-core (Seidman 1983).
- :func:`constraint`: Burt's (1992) network constraint, low for brokers whose contacts are not
  tied to each other; ``nan`` for isolated nodes.

>>> import scipy.sparse as sp
>>> path = sp.csr_matrix(np.array([[0, 1.0, 0], [1, 0, 1], [0, 1, 0]]))
>>> betweenness(path).tolist(), core_number(path).tolist()
([0.0, 1.0, 0.0], [1, 1, 1])
>>> [round(c, 3) for c in constraint(path).tolist()]
[1.0, 0.5, 1.0]
"""

from __future__ import annotations

import igraph as ig
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knotwork.errors import InputError
from knotwork.graph.communities import to_igraph

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


Built = tuple[ig.Graph, FloatArray]


def _graph(adjacency: sp.spmatrix | sp.sparray, built: Built | None) -> Built:
    return to_igraph(adjacency) if built is None else built


def betweenness(
    adjacency: sp.spmatrix | sp.sparray,
    *,
    samples: int | None = None,
    seed: int = 0,
    built: Built | None = None,
) -> FloatArray:
    """Betweenness of each node on hop-count shortest paths, each unordered pair counted once.

    Exact when ``samples`` is None or not below the node count; otherwise from ``samples``
    pivot sources drawn without replacement with ``seed``, scaled by ``n / samples``.

    >>> import scipy.sparse as sp
    >>> star = sp.csr_matrix(np.array([[0, 1.0, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]))
    >>> betweenness(star).tolist()
    [3.0, 0.0, 0.0, 0.0]
    >>> betweenness(star, samples=4).tolist()
    [3.0, 0.0, 0.0, 0.0]
    """
    graph, _ = _graph(adjacency, built)
    n = graph.vcount()
    if samples is not None and samples < 1:
        raise InputError(f"samples must be at least 1, got {samples}", place="betweenness")
    if n == 0:
        return np.zeros(0)
    if samples is None or samples >= n:
        return np.asarray(graph.betweenness(directed=False), dtype=np.float64)
    pivots = np.random.default_rng(seed).choice(n, size=samples, replace=False)
    partial = np.asarray(
        graph.betweenness(directed=False, sources=sorted(pivots.tolist())), dtype=np.float64
    )
    scaled: FloatArray = partial * (n / samples)
    return scaled


def core_number(adjacency: sp.spmatrix | sp.sparray, *, built: Built | None = None) -> IntArray:
    """The core number of each node (unweighted; 0 for isolated nodes).

    >>> import scipy.sparse as sp
    >>> triangle_and_tail = sp.csr_matrix(np.array(
    ...     [[0, 1.0, 1, 0], [1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 1, 0]]))
    >>> core_number(triangle_and_tail).tolist()
    [2, 2, 2, 1]
    """
    graph, _ = _graph(adjacency, built)
    return np.asarray(graph.coreness(), dtype=np.int64)


def constraint(adjacency: sp.spmatrix | sp.sparray, *, built: Built | None = None) -> FloatArray:
    """Burt's constraint ``c_i = sum_j (p_ij + sum_q p_iq p_qj) ** 2`` with ``p_ij`` the share
    of ``i``'s tie weight that goes to ``j``; ``nan`` for isolated nodes.

    >>> import scipy.sparse as sp
    >>> pair = sp.csr_matrix(np.array([[0, 1.0], [1.0, 0]]))
    >>> constraint(pair).tolist()
    [1.0, 1.0]
    """
    graph, weights = _graph(adjacency, built)
    values = np.asarray(graph.constraint(weights=weights.tolist()), dtype=np.float64)
    values[np.asarray(graph.degree()) == 0] = np.nan
    return values


__all__ = ["Built", "betweenness", "constraint", "core_number"]
