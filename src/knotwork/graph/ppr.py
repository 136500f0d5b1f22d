"""Fast PageRank and personalized PageRank on millions of links (numba kernels).

:class:`FastWalk` holds the walk of a weighted adjacency matrix as compact CSR arrays (int32
node indices, float32 probabilities), in both directions, after renumbering the nodes for
locality (``order``: see :func:`node_order`). Its answers are given in the caller's
numbering. The walk is the one of :mod:`knotwork.graph.rank` (teleport and dangling jumps to
the personalization), so results agree with :func:`~knotwork.graph.rank.pagerank`.

PageRank itself (:meth:`FastWalk.pagerank`) is fastest with ``order="scc"``: nodes grouped by
strongly connected component, components in topological order, so that the acyclic part of a
work graph (people to commits to files) is solved exactly in one pass and only the cyclic
components are iterated (:func:`~knotwork.graph.kernels.pagerank_blocks`).

What the orders and kernel changes gave, per pass over the links of the 10M-link benchmark
graph (1M nodes, 8.3M links; CPU time on one thread, best of 5, load 2.7 on 2 cores):
pull power iteration by total degree 36.9 ms with float64 row sums, 29.7 ms with float32 row
sums (:data:`~knotwork.graph.kernels.SUMS`); by in-degree 24.9 ms (rows of similar length side
by side: the loop over a row is predicted); by community from label propagation, then
in-degree, 20.4 ms (the sources a row reads lie together). RCM was within 3% of the degree
order (float64 sums). The block solver went from 34.7 ms per pass and 301 ms in all to 23.4 ms
and 143 ms (float32 row sums, in-degree inside components, mass balance and extrapolation of
the cyclic blocks); ``"scc-community"`` was no faster on one thread.

Personalized PageRank from a weighted seed set is computed by one of three methods, chosen by
:meth:`FastWalk.method_for` from the query size:

* ``"power"``: power iteration to an L1 tolerance (exact; cost of a full PageRank). Used on
  small graphs (at most :data:`SMALL_GRAPH` nodes) and for large seed sets (more than
  :data:`PUSH_SEEDS` seeds), where the answer spreads over much of the graph anyway.
* ``"push"``: forward push (Andersen, Chung, Lang 2006) to a residual ``eps`` per degree,
  tried first for up to :data:`PUSH_SEEDS` seeds: on a power-law graph most seeds have a small
  neighbourhood and push answers in about 0.1 ms, exactly enough for the top 20 (overlap 0.99).
* ``"walks"``: Monte Carlo random walks with restart, as Pixie (Eksombatchai et al. 2018);
  the visit shares estimate the vector; cost is the number of walks, whatever the degrees.

**Bounded work per query** (``method="auto"``): a push stops once it has read
:data:`AUTO_WORK` links (a seed that reaches the dense core made an unbounded push take
100-450 ms). The exact answer is then the push's estimate plus the personalized PageRank of
the residual ``r`` it left (``|r|`` in L1, at most 1), and that part is estimated by
``ceil(RESIDUAL_WALKS * |r|)`` walks started from the residual (the push-then-walks scheme of
FORA, Wang et al. 2017): their error is that of :data:`RESIDUAL_WALKS` walks scaled by
``|r|``; a walk reaching a dangling node jumps back to the seeds, as in the power iteration.
So one query reads at most ``AUTO_WORK`` links plus about ``RESIDUAL_WALKS / (1 - d)`` steps
(67,000 at ``d = 0.85``), whatever the seed. Measured on the 1M-link benchmark graph (841k
distinct links, 2 busy cores at load 4): 36 of 100 random seeds hit the bound; on those the
query took median 6.9 ms, at most 17.6 ms, with top-20 overlap 0.95 against the exact answer
(an unbounded push took up to 450 ms, 200,000 links read 15-42 ms with the same overlap, more
walks did not raise it); the other seeds finish the push exactly (overlap 0.99).
``bench/graph_engine.py --only ppr`` prints the median, p99 and top-20 overlap of each method.

``bench/graph_engine.py`` prints the time and top-20 overlap of each method against the exact
answer.

>>> import scipy.sparse as sp
>>> W = sp.csr_matrix(([1.0, 1.0, 1.0, 1.0], ([0, 1, 2, 2], [1, 2, 0, 1])), shape=(3, 3))
>>> walk = FastWalk(W)
>>> walk.pagerank().vector.round(3).tolist()
[0.215, 0.397, 0.388]
>>> nodes, values = walk.personalized({0: 1.0}, method="push", eps=1e-9)
>>> dict(zip(nodes.tolist(), values.round(2).tolist()))
{0: 0.29, 1: 0.38, 2: 0.33}
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Literal

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from knotwork.graph import kernels
from knotwork.graph.rank import FloatArray, RankResult

Order = Literal["none", "degree", "indegree", "community", "rcm", "bfs", "scc", "scc-community"]
#: Orders that group nodes by strongly connected component (the block solver runs on them).
BLOCK_ORDERS = ("scc", "scc-community")
#: Rounds of label propagation for the ``"community"`` orders.
COMMUNITY_ROUNDS = 5
Method = Literal["auto", "power", "push", "walks"]

#: Graphs with at most this many nodes answer personalized queries by exact power iteration.
SMALL_GRAPH = 20_000
#: Links an automatic forward push may read before walks take over its residual.
AUTO_WORK = 50_000
#: Walks for a whole unit of residual left by a bounded push (``method="auto"``).
RESIDUAL_WALKS = 10_000
#: Seed sets up to this size use forward push (then walks); larger ones use power iteration.
PUSH_SEEDS = 2_000
#: Cyclic blocks of at least this many rows are swept by all threads.
PARALLEL_ROWS = 20_000
#: A cyclic block stops at an L1 change below ``tol * BLOCK_SHARE * its share of the nodes``
#: (0.15: on the 1M-link benchmark graph the answer is 30x closer to the exact one than power
#: iteration's at the same ``tol``, so a warm and a cold solve agree within ``tol``; 1.0 reads
#: 10% fewer links, 6x closer, and warm and cold then differed by 2e-6 at tol 1e-6).
BLOCK_SHARE = 0.15
#: Default number of walks and push threshold.
WALKS = 40_000
EPS = 1e-6


#: Threads per kernel call at most, for this process (``None``: numba's); see :func:`limit_threads`.
_THREAD_CAP: list[int | None] = [None]


def limit_threads(count: int | None) -> None:
    """Run every kernel call of this process on at most ``count`` threads (``None``: as many
    as numba has). A server sets 1: its requests already run side by side on the cores (the
    kernels release the GIL, see :data:`~knotwork.graph.kernels.NOGIL`), and the parallel
    loops of calls running at once wait on each other's threads.

    >>> limit_threads(1); threads_for_load()
    1
    >>> limit_threads(None)
    """
    if count is not None and count < 1:
        raise ValueError("a kernel needs at least one thread")
    _THREAD_CAP[0] = count


def threads_for_load() -> int:
    """Threads for the parallel kernels: all of numba's (or the :func:`limit_threads` cap),
    or 1 when the machine is saturated.

    On a machine whose one-minute load is at least its core count, parallel loops wait on
    each other (measured on 2 busy cores: 1 thread 25 ms/iteration, 2 threads 93 ms).
    """
    cores = os.cpu_count() or 1
    most = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    cap = _THREAD_CAP[0]
    return 1 if os.getloadavg()[0] >= cores else min(most, cap or most)


def node_order(adjacency: sp.csr_matrix, order: Order) -> npt.NDArray[np.int64]:
    """A renumbering of the nodes (``perm[new] = old``) that keeps related nodes together.

    ``"degree"``: by total degree, largest first (the hubs, read most often, share cache lines);
    ``"indegree"``: by in-degree, largest first (rows of the pull kernels have similar lengths
    side by side, so the loop over a row's links is predicted well);
    ``"community"``: by community (:func:`communities_of`), then by in-degree (the sources a
    row reads are mostly rows of its own community, near each other);
    ``"scc"``/``"scc-community"``: see :func:`scc_order`;
    ``"rcm"``: reverse Cuthill-McKee of the symmetrised pattern (small bandwidth);
    ``"bfs"``: breadth-first from the highest-degree node of each component; ``"none"``: as is.

    >>> A = sp.csr_matrix(([1.0, 1.0], ([0, 2], [2, 1])), shape=(3, 3))
    >>> node_order(A, "degree").tolist()
    [2, 0, 1]
    """
    n = adjacency.shape[0]
    if order == "none" or n == 0:
        return np.arange(n, dtype=np.int64)
    if order in BLOCK_ORDERS:
        return scc_order(adjacency, communities=order == "scc-community")[0]
    pattern = (adjacency != 0).astype(np.int8)
    symmetric = (pattern + pattern.T).tocsr()
    degree = np.diff(symmetric.indptr)
    if order == "community":
        indegree = np.diff(pattern.tocsc().indptr)
        return np.lexsort((-indegree, communities_of(symmetric))).astype(np.int64)
    if order == "degree":
        return np.argsort(-degree, kind="stable").astype(np.int64)
    if order == "indegree":
        indegree = np.diff(pattern.tocsc().indptr)
        return np.argsort(-indegree, kind="stable").astype(np.int64)
    if order == "rcm":
        return np.asarray(csgraph.reverse_cuthill_mckee(symmetric, symmetric_mode=True), np.int64)
    if order == "bfs":
        seen = np.zeros(n, dtype=bool)
        parts = []
        for start in np.argsort(-degree, kind="stable").tolist():
            if seen[start]:
                continue
            reached = csgraph.breadth_first_order(symmetric, start, directed=False)[0]
            seen[reached] = True
            parts.append(reached)
        return np.concatenate(parts).astype(np.int64)
    raise ValueError(f"unknown node order {order!r}")


def communities_of(symmetric: sp.csr_matrix) -> npt.NDArray[np.int64]:
    """Community labels of a symmetric pattern by label propagation (seed 0,
    :data:`COMMUNITY_ROUNDS` rounds; :func:`~knotwork.graph.kernels.label_propagation`)."""
    return np.asarray(
        kernels.label_propagation(
            symmetric.indptr.astype(np.int64),
            symmetric.indices.astype(np.int32),
            COMMUNITY_ROUNDS,
            0,
        )
    )


def scc_order(
    adjacency: sp.csr_matrix, *, communities: bool = False
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Nodes by strongly connected component, components in topological order (``"scc"``).

    Returns ``perm`` (``perm[new] = old``) and the block boundaries: component ``b`` is rows
    ``blocks[b]:blocks[b + 1]`` of the renumbered graph, and every link comes from an earlier
    block or the same one, which :func:`~knotwork.graph.kernels.pagerank_blocks` needs.
    Components go by level of the condensation (:func:`~knotwork.graph.kernels.dag_levels`),
    so the singletons of one level form one run that the block solver splits among threads;
    singletons of a level go by in-degree, largest first, and the nodes of a cyclic component
    by their in-degree from inside the component (rows of similar length side by side: on the
    10M-link benchmark graph a sweep of the largest component took 22 ms instead of 28 ms
    by total degree, CPU time on one thread).
    With ``communities`` (order ``"scc-community"``) nodes of one level or component go by
    community (:func:`communities_of`) first, then by in-degree.

    >>> A = sp.csr_matrix(([1.0, 1.0, 1.0], ([2, 0, 1], [0, 1, 0])), shape=(3, 3))
    >>> perm, blocks = scc_order(A)
    >>> perm.tolist(), blocks.tolist()
    ([2, 0, 1], [0, 1, 3])
    """
    n = adjacency.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    pattern = sp.csr_matrix(adjacency, dtype=np.float64)
    count, label = kernels.strong_components(
        pattern.indptr.astype(np.int64), pattern.indices.astype(np.int32)
    )
    coo = pattern.tocoo()
    across = label[coo.row] != label[coo.col]
    condensed = sp.csr_matrix(
        (np.ones(int(across.sum()), np.int8), (label[coo.row[across]], label[coo.col[across]])),
        shape=(count, count),
    )
    condensed_indptr = condensed.indptr.astype(np.int64)
    condensed_indices = condensed.indices.astype(np.int32)
    topo = kernels.topological_order(condensed_indptr, condensed_indices)
    level = kernels.dag_levels(condensed_indptr, condensed_indices, topo)
    indegree = np.diff(pattern.tocsc().indptr)
    sizes = np.bincount(label, minlength=count)
    group = np.zeros(n, dtype=np.int64)
    if communities:
        structure = (pattern != 0).astype(np.int8)
        group = communities_of((structure + structure.T).tocsr())
    busiest = np.zeros(count, dtype=np.int64)
    np.maximum.at(busiest, label, indegree)
    first = np.zeros(count, dtype=np.int64)  # a singleton's community
    first[label] = group
    # by level; in a level the singletons first (one run) by community, then by in-degree
    ranked = np.lexsort((-busiest, first, sizes > 1, level))
    position = np.empty(count, dtype=np.int64)
    position[ranked] = np.arange(count)
    # inside a cyclic component by in-degree from the component itself (the links its sweeps
    # read again and again), else by in-degree; by community first with ``communities``
    within = label[coo.row] == label[coo.col]
    own = np.bincount(coo.col[within], minlength=n)
    inside = np.lexsort((-indegree, -own, group))
    key = position[label[inside]]
    perm = inside[np.argsort(key, kind="stable")].astype(np.int64)
    return perm, np.r_[0, np.cumsum(sizes[ranked])].astype(np.int64)


class FastWalk:
    """The random walk of a weighted adjacency matrix as compact arrays, for fast ranking.

    Building it renumbers the nodes (see :func:`node_order`) and stores the out-links (for push
    and walks) and the in-links (for the pull power iteration) of the walk. Personalized
    queries reuse scratch arrays: one :class:`FastWalk` serves one thread at a time.
    """

    def __init__(self, adjacency: sp.spmatrix | sp.sparray, *, order: Order = "degree") -> None:
        matrix = sp.csr_matrix(adjacency, dtype=np.float64)
        if matrix.shape[0] != matrix.shape[1]:
            raise ValueError("the adjacency matrix must be square")
        self.n = n = int(matrix.shape[0])
        self.order = order
        blocks = None
        if order in BLOCK_ORDERS:
            perm, blocks = scc_order(matrix, communities=order == "scc-community")
        else:
            perm = node_order(matrix, order)
        self.blocks = blocks
        self.perm = perm  # new -> old
        self.rank_of = np.empty(n, dtype=np.int64)  # old -> new
        self.rank_of[perm] = np.arange(n)
        if order != "none":
            matrix = matrix[perm][:, perm].tocsr()
        matrix.sum_duplicates()
        out = np.asarray(matrix.sum(axis=1)).ravel()
        inverse = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
        forward = sp.csr_matrix(sp.diags(inverse) @ matrix)
        forward.sort_indices()
        self.out_indptr = forward.indptr.astype(np.int64)
        self.out_indices = forward.indices.astype(np.int32)
        self.out_prob = forward.data.astype(np.float32)
        cum = np.cumsum(forward.data)
        starts = np.repeat(np.r_[0.0, cum][forward.indptr[:-1]], np.diff(forward.indptr))
        self.out_cum = (cum - starts).astype(np.float32)
        backward = forward.T.tocsr()
        backward.sort_indices()
        self.in_indptr = backward.indptr.astype(np.int64)
        self.in_indices = backward.indices.astype(np.int32)
        self.in_prob = backward.data.astype(np.float32)
        self.dangling = np.flatnonzero(out <= 0).astype(np.int32)
        #: Where runs of singleton blocks are cut into parallel waves (``order="scc"``).
        self.cut = (
            kernels.dag_waves(self.in_indptr, self.in_indices, blocks)
            if blocks is not None
            else np.zeros(0, dtype=bool)
        )
        #: The blocks no link enters from another block (``order="scc"``): one that holds no
        #: seed of a personalized query stays zero, unread (all of them in a symmetric walk).
        self.closed = np.zeros(0, dtype=bool)
        if blocks is not None:
            owner = np.repeat(np.arange(len(blocks) - 1, dtype=np.int32), np.diff(blocks))
            rows = np.repeat(owner, np.diff(self.in_indptr))  # the block of each link's target
            self.closed = np.ones(len(blocks) - 1, dtype=bool)
            self.closed[rows[owner[self.in_indices] != rows]] = False
        self._estimate = np.zeros(n, dtype=np.float64)
        self._residual = np.zeros(n, dtype=np.float64)
        self._queued = np.zeros(n, dtype=bool)
        self._queue = np.zeros(max(n, 1), dtype=np.int32)
        self._counts = np.zeros(n, dtype=np.int32)
        #: Links read by the last :meth:`pagerank` (iterations times links for power iteration).
        self.last_work = 0
        #: Threads the last :meth:`pagerank` ran on.
        self.last_threads = 1

    @property
    def n_links(self) -> int:
        """How many (distinct) links the walk has."""
        return int(self.out_indices.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes held by the link arrays (both directions)."""
        arrays = [self.out_indptr, self.out_indices, self.out_prob, self.out_cum]
        arrays += [self.in_indptr, self.in_indices, self.in_prob]
        return sum(int(a.nbytes) for a in arrays)

    def _inner(
        self, values: FloatArray | None
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64] | None]:
        """``values`` normalized, in the walk's order (empty: none or all zero), and where
        they are not zero in that order when they are few (else ``None``)."""
        empty = np.zeros(0, dtype=np.float32)
        if values is None:
            return empty, None
        array = np.asarray(values, dtype=np.float64)
        if array.shape != (self.n,):
            raise ValueError(f"expected a vector of {self.n} values, got shape {array.shape}")
        nonzero = np.flatnonzero(array != 0)  # (7x faster than on the floats themselves)
        if 4 * nonzero.size < self.n:  # a query's few seeds: no pass over every node but one
            picked = array[nonzero]
            if (picked < 0).any():
                raise ValueError("a distribution cannot have negative values")
            total = float(picked.sum())
            if total <= 0:
                return empty, None
            inner = np.zeros(self.n, dtype=np.float32)
            support = self.rank_of[nonzero]
            inner[support] = picked / total
            return inner, support
        if (array < 0).any():
            raise ValueError("a distribution cannot have negative values")
        total = float(array.sum())
        if total <= 0:
            return empty, None
        return (array[self.perm] / total).astype(np.float32), None

    def pagerank(
        self,
        *,
        damping: float = 0.85,
        personalization: FloatArray | None = None,
        start: FloatArray | None = None,
        tol: float = 1e-6,
        max_iter: int = 200,
        threads: int | None = None,
    ) -> RankResult:
        """PageRank to L1 change ``tol`` (float32 values), optionally warm-started.

        With ``order="scc"`` the block solver :func:`~knotwork.graph.kernels.pagerank_blocks`
        runs: acyclic parts are solved exactly in one pass, each cyclic component is iterated
        alone, then whole sweeps check the answer by power iteration's rule (``iterations`` is
        the number of those sweeps; :attr:`last_work` the links read in all). On the 1M-link
        benchmark graph it reads the links 8-10 times against 38 power iterations, and its
        answer is closer to the exact one. Other orders run the pull power iteration
        :func:`~knotwork.graph.kernels.pagerank_pull` (``iterations`` = its steps).

        ``threads`` defaults to :func:`threads_for_load`. A warm start (``start``: the previous
        vector) only shortens the iteration of the cyclic components: after 10,000 random new
        links on the 10M-link benchmark graph a warm solve read 4.6 link passes against 5.8
        cold (1M-link graph, power iteration: 29 iterations against 37), since each pass
        shrinks the residual by a near-constant factor and the change of 10,000 links is dense:
        the L1 distance of the old and new PageRank is 0.0115, 90% of it spread over 386,000
        nodes, and the residual of the warm start (2.8e-3 in L1) has 90% of its mass on
        654,000 nodes: a Gauss-Southwell push of that residual read 8.3 link passes to reach
        an L1 error of 1.6e-7, as many as a cold solve.
        """
        if not 0.0 <= damping < 1.0:
            raise ValueError("damping must be in [0, 1)")
        if self.n == 0:
            return RankResult(np.zeros(0), 0, True)
        p, seeded = self._inner(personalization)
        x, _ = self._inner(start)
        skip = np.zeros(0, dtype=bool)
        if self.blocks is not None and seeded is not None and x.shape[0] == 0:
            # started from the seeds: a closed block without one stays zero
            skip = self.closed.copy()
            skip[np.searchsorted(self.blocks, seeded, side="right") - 1] = False
        if x.shape[0] == 0:
            x = p.copy() if p.shape[0] else np.full(self.n, 1.0 / self.n, dtype=np.float32)
        before = numba.get_num_threads()
        numba.set_num_threads(threads or threads_for_load())
        self.last_threads = numba.get_num_threads()
        try:
            if self.blocks is not None:
                # the start as a solution of the linear system: scaled to its sum there
                x *= np.float32((1 - damping) / (1 - damping * (1 - float(x[self.dangling].sum()))))
                vector, iterations, change, work = kernels.pagerank_blocks(
                    self.in_indptr, self.in_indices, self.in_prob, p, x, self.blocks, self.cut,
                    damping, tol, max_iter, PARALLEL_ROWS, BLOCK_SHARE, skip,
                )  # fmt: skip
                self.last_work = int(work)
            else:
                vector, iterations, change = kernels.pagerank_pull(
                    self.in_indptr, self.in_indices, self.in_prob, self.dangling, p, x,
                    damping, tol, max_iter,
                )  # fmt: skip
                self.last_work = int(iterations) * self.n_links
        finally:
            numba.set_num_threads(before)
        result = vector[self.rank_of].astype(np.float64)
        result /= result.sum()
        return RankResult(result, int(iterations), bool(change < tol))

    def method_for(self, seeds: Mapping[int, float]) -> Method:
        """The method :meth:`personalized` uses for ``seeds`` (see the module docstring)."""
        if self.n <= SMALL_GRAPH or len(seeds) > PUSH_SEEDS:
            return "power"
        return "push"

    def personalized(
        self,
        seeds: Mapping[int, float],
        *,
        method: Method = "auto",
        damping: float = 0.85,
        eps: float = EPS,
        walks: int | None = None,
        rng_seed: int = 0,
        tol: float = 1e-6,
        max_work: int = 2**62,
    ) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Personalized PageRank from ``seeds`` (node -> weight): the nodes reached and scores.

        Only nodes with a positive score are returned (in no particular order). With
        ``method="auto"`` a ``"push"`` that has read :data:`AUTO_WORK` links (its seeds reach
        the dense core) stops there, and walks spread the residual it left (see the module
        docstring). ``max_work`` bounds an explicit ``method="push"`` the same way (then the
        residual is simply dropped).
        """
        chosen = {int(k): float(v) for k, v in seeds.items() if v > 0}
        if not chosen:
            raise ValueError("personalized PageRank needs at least one seed of positive weight")
        if min(chosen) < 0 or max(chosen) >= self.n:
            raise ValueError(f"seed nodes must be in [0, {self.n})")
        kind = self.method_for(chosen) if method == "auto" else method
        old = np.fromiter(chosen, dtype=np.int64, count=len(chosen))
        weight = np.fromiter(chosen.values(), dtype=np.float64, count=len(chosen))
        weight /= weight.sum()
        inner = self.rank_of[old].astype(np.int32)
        if kind == "power":
            p = np.zeros(self.n, dtype=np.float64)
            p[old] = weight
            vector = self.pagerank(damping=damping, personalization=p, tol=tol).vector
            nodes = np.flatnonzero(vector > 0)
            return nodes, vector[nodes]
        if kind == "push":
            budget = max_work if method == "push" else AUTO_WORK
            found, values, left, work = kernels.forward_push(
                self.out_indptr, self.out_indices, self.out_prob, inner, weight, damping, eps,
                self._estimate, self._residual, self._queued, self._queue, budget,
            )  # fmt: skip
            if work >= budget and method == "auto":
                jumps = (inner, np.cumsum(weight))
                count = RESIDUAL_WALKS if walks is None else walks
                return self._finish_with_walks(found, values, left, jumps, damping, count, rng_seed)
        if kind == "walks":
            found, values, _ = kernels.monte_carlo(
                self.out_indptr, self.out_indices, self.out_cum, inner, np.cumsum(weight),
                inner, np.cumsum(weight), damping, walks or WALKS, rng_seed, self._counts,
            )  # fmt: skip
        elif kind != "push":
            raise ValueError(f"unknown method {kind!r}")
        keep = values > 0
        return self.perm[found[keep]], values[keep]

    def _finish_with_walks(
        self,
        found: npt.NDArray[np.int32],
        values: FloatArray,
        left: FloatArray,
        jumps: tuple[npt.NDArray[np.int32], FloatArray],
        damping: float,
        walks: int,
        rng_seed: int,
    ) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Estimate + the residual's personalized PageRank by ``walks * |residual|`` walks."""
        holding = left > 0
        mass = float(left[holding].sum())
        count = math.ceil(walks * mass)
        if count > 0:
            starts = found[holding]
            more, shares, _ = kernels.monte_carlo(
                self.out_indptr, self.out_indices, self.out_cum, starts,
                np.cumsum(left[holding]), *jumps, damping, count, rng_seed, self._counts,
            )  # fmt: skip
            every = np.concatenate((found, more))
            found, inverse = np.unique(every, return_inverse=True)
            added = np.bincount(inverse, np.concatenate((values, mass * shares)))
            values = np.asarray(added, dtype=np.float64)
        keep = values > 0
        return self.perm[found[keep]], values[keep]

    def personalized_exact(
        self, seeds: npt.NDArray[np.int64], *, damping: float = 0.85, tol: float = 1e-9
    ) -> FloatArray:
        """Exact personalized PageRank of each single seed in ``seeds`` (``n x len(seeds)``).

        All columns share each pass over the links (used to check the fast methods).
        """
        p = np.zeros((self.n, len(seeds)), dtype=np.float32)
        p[self.rank_of[np.asarray(seeds)], np.arange(len(seeds))] = 1.0
        before = numba.get_num_threads()
        numba.set_num_threads(threads_for_load())
        try:
            matrix, _ = kernels.pagerank_pull_many(
                self.in_indptr, self.in_indices, self.in_prob, self.dangling, p, damping, tol, 1000
            )
        finally:
            numba.set_num_threads(before)
        return np.asarray(matrix[self.rank_of], dtype=np.float64)


def top(nodes: npt.NDArray[np.int64], values: FloatArray, k: int) -> npt.NDArray[np.int64]:
    """The ``k`` nodes of highest value, best first (ties by node id). Only the nodes at or
    above the ``k``-th value are sorted.

    >>> top(np.array([4, 2, 9]), np.array([0.1, 0.5, 0.1]), 2).tolist()
    [2, 4]
    """
    if 0 < k < len(values):
        kth = np.partition(values, len(values) - k)[len(values) - k]
        kept = values >= kth  # ties at the k-th value are all kept, then ordered by id
        nodes, values = nodes[kept], values[kept]
    order = np.lexsort((nodes, -values))
    return nodes[order[:k]]


__all__ = [
    "AUTO_WORK",
    "EPS",
    "RESIDUAL_WALKS",
    "SMALL_GRAPH",
    "WALKS",
    "FastWalk",
    "limit_threads",
    "node_order",
    "threads_for_load",
    "top",
]
