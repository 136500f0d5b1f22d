"""PageRank and personalized PageRank by power iteration on sparse matrices.

Given a weighted adjacency matrix ``W`` (``W[i, j]`` = weight of the link ``i -> j``), a walker
at ``i`` follows a link with probability proportional to its weight; with probability
``1 - damping`` (and always from a node without out-links, a *dangling* node) it jumps to a
node drawn from the personalization vector ``p`` (uniform by default). The PageRank vector is
the stationary distribution of this walk (Page, Brin, Motwani, Winograd 1999, "The PageRank
citation ranking: bringing order to the web"); with a personalization concentrated on a few
seed nodes it is the *personalized* PageRank of Haveliwala (2002), the "gradually fading rings
of attraction" around the seeds. The iteration is::

    x <- damping * (P^T x + (dangling . x) p) + (1 - damping) p,      P = D^-1 W

It stops when the L1 change is below ``tol``; it may start from a previous vector (warm start),
which after a small change of the graph converges in a few steps.

>>> import scipy.sparse as sp
>>> W = sp.csr_matrix(([1.0, 1.0, 1.0], ([0, 1, 2], [1, 2, 0])), shape=(3, 3))
>>> result = pagerank(W)
>>> result.vector.round(3).tolist()
[0.333, 0.333, 0.333]
>>> ppr = pagerank(W, personalization=[1.0, 0.0, 0.0], damping=0.5)
>>> ppr.vector.round(3).tolist()
[0.571, 0.286, 0.143]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RankResult:
    """A PageRank vector (sums to 1), the iterations it took and whether it converged."""

    vector: FloatArray
    iterations: int
    converged: bool


class Walk:
    """The random walk of a weighted adjacency matrix, ready for many PageRank runs.

    Building it row-normalises ``W`` and transposes it once; each :meth:`rank` then costs one
    sparse matrix-vector product per iteration.
    """

    def __init__(self, adjacency: sp.spmatrix | sp.sparray) -> None:
        matrix = sp.csr_matrix(adjacency, dtype=np.float64)
        if matrix.shape[0] != matrix.shape[1]:
            raise ValueError("the adjacency matrix must be square")
        out = np.asarray(matrix.sum(axis=1)).ravel()
        self.n = int(matrix.shape[0])
        self.dangling: npt.NDArray[np.bool_] = out <= 0
        inverse = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
        transition = sp.diags(inverse) @ matrix
        self.transposed = sp.csr_matrix(transition.T)
        self.out_weight: FloatArray = out

    def rank(
        self,
        *,
        damping: float = 0.85,
        personalization: Sequence[float] | FloatArray | None = None,
        start: FloatArray | None = None,
        tol: float = 1e-9,
        max_iter: int = 200,
    ) -> RankResult:
        """The PageRank vector of this walk (see the module docstring)."""
        if not 0.0 <= damping < 1.0:
            raise ValueError("damping must be in [0, 1)")
        if self.n == 0:
            return RankResult(np.zeros(0), 0, True)
        p = _distribution(personalization, self.n)
        x = p.copy() if start is None else _distribution(start, self.n)
        for iteration in range(1, max_iter + 1):
            lost = float(x[self.dangling].sum())
            following = self.transposed @ x
            new = damping * (following + lost * p) + (1.0 - damping) * p
            change = float(np.abs(new - x).sum())
            x = new
            if change < tol:
                return RankResult(x / x.sum(), iteration, True)
        return RankResult(x / x.sum(), max_iter, False)


def _distribution(values: Sequence[float] | FloatArray | None, n: int) -> FloatArray:
    if values is None:
        return np.full(n, 1.0 / n)
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n,):
        raise ValueError(f"expected a vector of {n} values, got shape {array.shape}")
    if (array < 0).any():
        raise ValueError("a distribution cannot have negative values")
    total = float(array.sum())
    if total <= 0:
        return np.full(n, 1.0 / n)
    return array / total


def pagerank(
    adjacency: sp.spmatrix | sp.sparray,
    *,
    damping: float = 0.85,
    personalization: Sequence[float] | FloatArray | None = None,
    start: FloatArray | None = None,
    tol: float = 1e-9,
    max_iter: int = 200,
) -> RankResult:
    """PageRank of the weighted adjacency matrix ``adjacency`` (one-off; see :class:`Walk`)."""
    return Walk(adjacency).rank(
        damping=damping,
        personalization=personalization,
        start=start,
        tol=tol,
        max_iter=max_iter,
    )


__all__ = ["RankResult", "Walk", "pagerank"]
