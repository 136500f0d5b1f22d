"""Numba kernels for the walks of :mod:`knotwork.graph.ppr` (compiled once, cached on disk).

The graph reaches these kernels as CSR arrays: ``indptr`` (int64, ``n + 1``), ``indices``
(int32) and ``prob`` (float32, the probability of following each link, i.e. its weight over the
out-weight of its source). :func:`pagerank_pull` and :func:`pagerank_blocks` want the
*in*-links of each node (the CSR of the transposed walk); :func:`forward_push` and
:func:`monte_carlo` want the out-links, the latter with ``cum``, the running sum of ``prob``
along each row.

Values are float32 arrays and sums are float64, so an L1 tolerance of 1e-6 is met on graphs of
millions of nodes. Every kernel is ``cache=True``: the first call in a fresh environment
compiles (seconds), later processes load the machine code from ``__pycache__``.

>>> import numpy as np
>>> indptr = np.array([0, 1, 2, 3], dtype=np.int64)   # in-links of a 3-cycle 0->1->2->0
>>> indices = np.array([2, 0, 1], dtype=np.int32)
>>> prob = np.ones(3, dtype=np.float32)
>>> x, iterations, change = pagerank_pull(
...     indptr, indices, prob, np.zeros(0, np.int32), np.zeros(0, np.float32),
...     np.full(3, 1 / 3, np.float32), 0.85, 1e-6, 100)
>>> [round(v, 3) for v in x.tolist()], iterations
([0.333, 0.333, 0.333], 1)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


@njit(parallel=True, cache=True)
def pagerank_pull(
    indptr: I64,
    indices: I32,
    prob: F32,
    dangling: I32,
    p: F32,
    x: F32,
    damping: float,
    tol: float,
    max_iter: int,
) -> tuple[F32, int, float]:
    """Power iteration, pull form: ``x'[i] = d * sum_in(prob * x[src]) + (d * lost + 1 - d) p[i]``.

    ``lost`` is the rank held by the ``dangling`` nodes; ``p`` is the teleport distribution
    (empty = uniform). Stops when the L1 change is below ``tol``; returns the vector, the
    iterations and the last change. ``x`` (the start) is overwritten.
    """
    n = indptr.shape[0] - 1
    uniform = p.shape[0] == 0
    other = np.empty(n, dtype=np.float32)
    current = x
    change = np.inf
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        lost = 0.0
        for k in prange(dangling.shape[0]):
            lost += current[dangling[k]]
        base = damping * lost + (1.0 - damping)
        change = 0.0
        for i in prange(n):
            total = 0.0
            for e in range(indptr[i], indptr[i + 1]):
                total += prob[e] * current[indices[e]]
            jump = base / n if uniform else base * p[i]
            value = damping * total + jump
            change += abs(value - current[i])
            other[i] = value
        current, other = other, current
        if change < tol:
            break
    return current, iterations, change


@njit(parallel=True, cache=True)
def pagerank_pull_many(
    indptr: I64,
    indices: I32,
    prob: F32,
    dangling: I32,
    p: F32,
    damping: float,
    tol: float,
    max_iter: int,
) -> tuple[F64, int]:
    """Personalized PageRank for the ``k`` columns of ``p`` (``n x k``) at once (exact answers).

    One pass over the links serves all ``k`` vectors, so the random reads are shared. Stops when
    every column's L1 change is below ``tol``.
    """
    n, k = p.shape
    current = p.astype(np.float64)
    other = np.empty_like(current)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        lost = np.zeros(k, dtype=np.float64)
        for t in range(dangling.shape[0]):
            for c in range(k):
                lost[c] += current[dangling[t], c]
        for i in prange(n):
            for c in range(k):
                other[i, c] = 0.0
            for e in range(indptr[i], indptr[i + 1]):
                w = prob[e]
                src = indices[e]
                for c in range(k):
                    other[i, c] += w * current[src, c]
            for c in range(k):
                other[i, c] = damping * other[i, c] + (damping * lost[c] + 1.0 - damping) * p[i, c]
        worst = 0.0
        for c in range(k):
            total = 0.0
            for i in range(n):
                total += abs(other[i, c] - current[i, c])
            worst = max(worst, total)
        current, other = other, current
        if worst < tol:
            break
    return current, iterations


@njit(cache=True)
def forward_push(
    indptr: I64,
    indices: I32,
    prob: F32,
    seeds: I32,
    seed_weight: F64,
    damping: float,
    eps: float,
    estimate: F64,
    residual: F64,
    queued: npt.NDArray[np.bool_],
    queue: I32,
    max_work: int,
) -> tuple[I32, F64, F64, int]:
    """Forward push (Andersen, Chung, Lang 2006) for the seed distribution ``seed_weight``.

    Keeps an estimate ``p`` and a residual ``r`` (initially the seeds); while a node ``u`` holds
    ``r[u] > eps * outdeg(u)`` it keeps ``(1 - d) r[u]`` and passes ``d r[u]`` along its links
    (a dangling node passes it back to the seeds). Each final value is within ``eps * deg`` of
    the exact one. ``estimate``, ``residual``, ``queued`` (all zero/False, size ``n``) and
    ``queue`` (size ``n``) are scratch arrays: they are left as they were found. Stops once the
    pushes have read ``max_work`` links (then the residual left is larger than ``eps``; exact
    answer = estimate + the personalized PageRank of the residual). Returns the touched nodes,
    their estimates and residuals, and the links read.
    """
    n = indptr.shape[0] - 1
    touched = np.empty(16, dtype=np.int32)
    n_touched = 0
    head = 0
    size = 0
    for s in range(seeds.shape[0]):
        u = seeds[s]
        if residual[u] == 0.0 and estimate[u] == 0.0:
            if n_touched == touched.shape[0]:
                touched = np.concatenate((touched, np.empty(n_touched, dtype=np.int32)))
            touched[n_touched] = u
            n_touched += 1
        residual[u] += seed_weight[s]
        if not queued[u]:
            queued[u] = True
            queue[(head + size) % n] = u
            size += 1
    work = 0
    while size > 0 and work < max_work:
        u = queue[head]
        head = (head + 1) % n
        size -= 1
        queued[u] = False
        r = residual[u]
        degree = indptr[u + 1] - indptr[u]
        if r <= eps * max(degree, 1):
            continue
        work += max(degree, 1)
        residual[u] = 0.0
        estimate[u] += (1.0 - damping) * r
        passed = damping * r
        if degree == 0:
            for s in range(seeds.shape[0]):
                v = seeds[s]
                residual[v] += passed * seed_weight[s]
                if not queued[v] and residual[v] > eps * max(indptr[v + 1] - indptr[v], 1):
                    queued[v] = True
                    queue[(head + size) % n] = v
                    size += 1
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if residual[v] == 0.0 and estimate[v] == 0.0:
                if n_touched == touched.shape[0]:
                    touched = np.concatenate((touched, np.empty(n_touched, dtype=np.int32)))
                touched[n_touched] = v
                n_touched += 1
            residual[v] += passed * prob[e]
            if not queued[v] and residual[v] > eps * max(indptr[v + 1] - indptr[v], 1):
                queued[v] = True
                queue[(head + size) % n] = v
                size += 1
    while size > 0:  # leave the queue flags as found
        queued[queue[head]] = False
        head = (head + 1) % n
        size -= 1
    nodes = touched[:n_touched].copy()
    values = np.empty(n_touched, dtype=np.float64)
    left = np.empty(n_touched, dtype=np.float64)
    for t in range(n_touched):
        v = nodes[t]
        values[t] = estimate[v]
        left[t] = residual[v]
        estimate[v] = 0.0
        residual[v] = 0.0
        queued[v] = False
    return nodes, values, left, work


@njit(cache=True)
def monte_carlo(
    indptr: I64,
    indices: I32,
    cum: F32,
    seeds: I32,
    seed_cum: F64,
    jump: I32,
    jump_cum: F64,
    damping: float,
    walks: int,
    rng_seed: int,
    counts: I32,
) -> tuple[I32, F64, int]:
    """Random walks with restart (as Pixie): the share of visits estimates personalized PageRank.

    Each of ``walks`` walks starts at a seed drawn by ``seed_cum`` (running sum of the seed
    weights, ending at 1); at each node it counts a visit, then stops with probability
    ``1 - d``, else follows a link drawn by weight (``cum``, the running sum of ``prob`` along
    each out-row); from a dangling node it jumps to a node drawn from ``jump`` by ``jump_cum``
    (the personalization: the walk of :func:`pagerank_pull`; ``jump`` differs from ``seeds``
    when the walks start from a push residual). ``counts`` is zeroed scratch of size ``n``,
    left as found. Returns the visited nodes, their visit shares and the total steps.
    """
    np.random.seed(rng_seed)
    touched = np.empty(1024, dtype=np.int32)
    n_touched = 0
    steps = 0
    for _ in range(walks):
        u = seeds[np.searchsorted(seed_cum, np.random.random() * seed_cum[-1])]
        while True:
            if counts[u] == 0:
                if n_touched == touched.shape[0]:
                    touched = np.concatenate((touched, np.empty(n_touched, dtype=np.int32)))
                touched[n_touched] = u
                n_touched += 1
            counts[u] += 1
            steps += 1
            if np.random.random() >= damping:
                break
            start = indptr[u]
            end = indptr[u + 1]
            if start == end:
                u = jump[np.searchsorted(jump_cum, np.random.random() * jump_cum[-1])]
                continue
            draw = np.random.random() * cum[end - 1]
            lo = start
            hi = end - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if cum[mid] < draw:
                    lo = mid + 1
                else:
                    hi = mid
            u = indices[lo]
    nodes = touched[:n_touched].copy()
    values = np.empty(n_touched, dtype=np.float64)
    for t in range(n_touched):
        values[t] = counts[nodes[t]] / steps
        counts[nodes[t]] = 0
    return nodes, values, steps


#: Relative L1 change below which float32 sweeps only move rounding noise (about 4 ulps a value).
FLOAT32_FLOOR = 2.0**-22


@njit(cache=True)
def topological_order(indptr: I64, indices: I32) -> I64:
    """A topological order of an acyclic graph given as out-link CSR (Kahn's algorithm).

    Used on the condensation of a graph (one node per strongly connected component), whose
    links may repeat. Every node comes after all nodes that link to it.
    """
    n = indptr.shape[0] - 1
    indegree = np.zeros(n, dtype=np.int64)
    for e in range(indices.shape[0]):
        indegree[indices[e]] += 1
    order = np.empty(n, dtype=np.int64)
    size = 0
    for u in range(n):
        if indegree[u] == 0:
            order[size] = u
            size += 1
    head = 0
    while head < size:
        u = order[head]
        head += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            indegree[v] -= 1
            if indegree[v] == 0:
                order[size] = v
                size += 1
    return order[:size]


@njit(parallel=True, cache=True)
def _sweep(
    indptr: I64, indices: I32, prob: F32, p: F32, y: F32, lo: int, hi: int, damping: float
) -> tuple[float, float]:
    """One in-place Gauss-Seidel sweep over rows ``lo:hi`` (threads share it); returns the L1
    change and the sum of the new values."""
    uniform = p.shape[0] == 0
    jump = (1.0 - damping) / (indptr.shape[0] - 1)
    moved = 0.0
    total = 0.0
    for i in prange(lo, hi):
        acc = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            acc += prob[e] * y[indices[e]]
        value = damping * acc + (jump if uniform else (1.0 - damping) * p[i])
        moved += abs(value - y[i])
        total += value
        y[i] = value
    return moved, total


@njit(parallel=True, cache=True)
def _block_inputs(
    indptr: I64, indices: I32, prob: F32, p: F32, y: F32, lo: int, hi: int, damping: float
) -> tuple[F64, I64]:
    """For rows ``lo:hi`` (one block; in-links sorted by source): the fixed part of each value
    (teleport + links from earlier blocks, which are final) and where its in-block links start."""
    uniform = p.shape[0] == 0
    jump = (1.0 - damping) / (indptr.shape[0] - 1)
    base = np.empty(hi - lo, dtype=np.float64)
    split = np.empty(hi - lo, dtype=np.int64)
    for i in prange(lo, hi):
        acc = 0.0
        e = indptr[i]
        end = indptr[i + 1]
        while e < end and indices[e] < lo:
            acc += prob[e] * y[indices[e]]
            e += 1
        split[i - lo] = e
        base[i - lo] = damping * acc + (jump if uniform else (1.0 - damping) * p[i])
    return base, split


@njit(inline="always", cache=True)
def _block_row(
    indptr: I64,
    indices: I32,
    prob: F32,
    y: F32,
    base: F64,
    split: I64,
    lo: int,
    k: int,
    damping: float,
) -> float:
    """The new value of row ``lo + k`` of a block: its fixed part plus its in-block links."""
    acc = 0.0
    for e in range(split[k], indptr[lo + k + 1]):
        acc += prob[e] * y[indices[e]]
    return float(base[k] + damping * acc)


@njit(parallel=True, cache=True)
def _block_sweep(
    indptr: I64, indices: I32, prob: F32, y: F32, base: F64, split: I64, lo: int, damping: float
) -> tuple[float, float]:
    """One in-place Gauss-Seidel sweep of a block over its in-block links only (threads share
    it); returns the L1 change and the sum of the new values."""
    moved = 0.0
    total = 0.0
    for k in prange(base.shape[0]):
        value = _block_row(indptr, indices, prob, y, base, split, lo, k, damping)
        moved += abs(value - y[lo + k])
        total += value
        y[lo + k] = value
    return moved, total


@njit(cache=True)
def _block_sweep_serial(
    indptr: I64, indices: I32, prob: F32, y: F32, base: F64, split: I64, lo: int, damping: float
) -> tuple[float, float]:
    """:func:`_block_sweep` on one thread (small blocks)."""
    moved = 0.0
    total = 0.0
    for k in range(base.shape[0]):
        value = _block_row(indptr, indices, prob, y, base, split, lo, k, damping)
        moved += abs(value - y[lo + k])
        total += value
        y[lo + k] = value
    return moved, total


@njit(cache=True)
def _solve_dag_run(
    indptr: I64, indices: I32, prob: F32, p: F32, y: F32, lo: int, hi: int, damping: float
) -> None:
    """Rows ``lo:hi`` are singleton components in topological order: each value follows
    exactly from values already final (a self-loop is solved in closed form)."""
    uniform = p.shape[0] == 0
    jump = (1.0 - damping) / (indptr.shape[0] - 1)
    for i in range(lo, hi):
        acc = 0.0
        loop = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j == i:
                loop += prob[e]
            else:
                acc += prob[e] * y[j]
        base = jump if uniform else (1.0 - damping) * p[i]
        y[i] = (damping * acc + base) / (1.0 - damping * loop)


@njit(cache=True)
def pagerank_blocks(
    indptr: I64,
    indices: I32,
    prob: F32,
    p: F32,
    y: F32,
    blocks: I64,
    damping: float,
    tol: float,
    max_iter: int,
    parallel_rows: int,
    block_share: float,
) -> tuple[F32, int, float, int]:
    """PageRank by blocks in topological order, for ``y = d * P~^T y + (1 - d) p``.

    The rows must be numbered so that every strongly connected component is one run
    ``blocks[b]:blocks[b + 1]`` and the components come in topological order (every in-link
    comes from an earlier block or the same one). ``P~`` is the walk with the dangling rows left
    empty: the PageRank vector is ``y / sum(y)`` (dangling jumps to ``p`` only rescale the
    solution; Del Corso, Gulli, Romani 2005), so there is no global dangling sum and the system
    is block triangular: a singleton block is solved exactly in one step from the blocks
    before it, and a cyclic block is iterated alone by in-place Gauss-Seidel sweeps (threads
    share a block of at least ``parallel_rows`` rows; links from earlier blocks are summed
    once) until its L1 change is below its share ``block_share * tol * size / n``, or only
    moves float32 rounding noise (:data:`FLOAT32_FLOOR`). Then whole Gauss-Seidel sweeps run
    until one changes ``y`` by less than ``tol * sum(y)`` in L1 (the stopping rule of power
    iteration; usually the first one). ``p`` empty = uniform; ``y`` is the start (overwritten;
    only cyclic blocks use it). Returns ``y``, the whole sweeps, their last relative change
    and the links read.
    """
    n = indptr.shape[0] - 1
    work = 0
    b = 0
    n_blocks = blocks.shape[0] - 1
    while b < n_blocks:
        lo = blocks[b]
        end = b
        while end < n_blocks and blocks[end + 1] - blocks[end] == 1:
            end += 1
        if end > b:  # a run of singletons
            hi = blocks[end]
            _solve_dag_run(indptr, indices, prob, p, y, lo, hi, damping)
            work += indptr[hi] - indptr[lo]
            b = end
            continue
        hi = blocks[b + 1]
        limit = tol * block_share * (hi - lo) / n
        base, split = _block_inputs(indptr, indices, prob, p, y, lo, hi, damping)
        work += indptr[hi] - indptr[lo]
        inner = 0
        for k in range(split.shape[0]):
            inner += indptr[lo + k + 1] - split[k]
        for _ in range(max_iter):
            if hi - lo >= parallel_rows:
                moved, total = _block_sweep(indptr, indices, prob, y, base, split, lo, damping)
            else:
                moved, total = _block_sweep_serial(
                    indptr, indices, prob, y, base, split, lo, damping
                )
            work += inner
            if moved < max(limit, FLOAT32_FLOOR * total):
                break
        b += 1
    sweeps = 0
    change = np.inf
    while sweeps < max_iter:
        sweeps += 1
        moved, total = _sweep(indptr, indices, prob, p, y, 0, n, damping)
        work += indptr[n]
        change = moved / total
        if change < tol:
            break
    return y, sweeps, change, work
