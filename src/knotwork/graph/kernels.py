"""Numba kernels for the walks of :mod:`knotwork.graph.ppr` (compiled once, cached on disk).

The graph reaches these kernels as CSR arrays: ``indptr`` (int64, ``n + 1``), ``indices``
(int32) and ``prob`` (float32, the probability of following each link, i.e. its weight over the
out-weight of its source). :func:`pagerank_pull` wants the *in*-links of each node (the CSR of
the transposed walk); :func:`forward_push` and :func:`monte_carlo` want the out-links, the
latter with ``cum``, the running sum of ``prob`` along each row.

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
