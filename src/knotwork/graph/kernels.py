"""Numba kernels for the walks of :mod:`knotwork.graph.ppr` (compiled once, cached on disk).

The graph reaches these kernels as CSR arrays: ``indptr`` (int64, ``n + 1``), ``indices``
(int32) and ``prob`` (float32, the probability of following each link, i.e. its weight over the
out-weight of its source). :func:`pagerank_pull` and :func:`pagerank_blocks` want the
*in*-links of each node (the CSR of the transposed walk); :func:`forward_push` and
:func:`monte_carlo` want the out-links, the latter with ``cum``, the running sum of ``prob``
along each row.

Values are float32 arrays; the sum over one row's links is float32 (see :data:`SUMS`) and sums
over nodes (L1 changes, totals) are float64, so an L1 tolerance of 1e-6 is met on graphs of
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

import importlib
import os

import numba
import numpy as np
import numpy.typing as npt
from numba import njit, prange


def _threadsafe_layer() -> bool:
    """Whether numba's parallel kernels may run from several threads at once: an OpenMP or
    TBB threading layer loads (numba's own ``workqueue`` layer aborts the process on a
    concurrent launch), and ``NUMBA_THREADING_LAYER`` does not ask for ``workqueue``."""
    asked = os.environ.get("NUMBA_THREADING_LAYER", "default")
    if asked not in ("default", "threadsafe", "safe", "omp", "tbb"):
        return False
    for name in ("tbbpool", "omppool"):
        try:
            importlib.import_module(f"numba.np.ufunc.{name}")
        except ImportError:
            continue
        return True
    return False


#: Whether the kernels release the GIL while they run (see :func:`_threadsafe_layer`): a
#: server's other threads then answer requests while a kernel ranks a graph in one of them.
#: Held, a 40 ms who-knows walk or a view's warm-up PageRank stalled every other request.
NOGIL = _threadsafe_layer()
if NOGIL and "NUMBA_THREADING_LAYER" not in os.environ:  # never fall back to ``workqueue``
    numba.config.THREADING_LAYER = "threadsafe"  # type: ignore[attr-defined]

#: Floating-point liberties of the kernels that sum over links: the float32 sum of a row may
#: be reordered (vectorised, several partial sums) and multiply-adds fused. Summing a row in
#: float32 rather than float64 cut a pass by 15-20% (CPU time, one thread, 10M-link benchmark
#: graph) and adds 1.4e-8 of relative L1 rounding to a pass, below :data:`FLOAT32_FLOOR`.
SUMS = {"reassoc", "contract"}

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


@njit(nogil=NOGIL, parallel=True, cache=True, fastmath=SUMS)
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
    (empty = uniform). Stops when the L1 change is below ``tol``, or when it no longer falls:
    each step of this contraction shrinks the change by at least ``damping`` in exact
    arithmetic, so a change that does not fall is float32 rounding, which more steps cannot
    remove (on DPDK's authority walk a tolerance of 1e-7 was never met: the change stayed at
    1.22e-7 from step 150 to 200).
    Returns the vector, the iterations and the last change. ``x`` (the start) is overwritten.
    """
    n = indptr.shape[0] - 1
    uniform = p.shape[0] == 0
    other = np.empty(n, dtype=np.float32)
    current = x
    change = np.inf
    before = np.inf
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        lost = 0.0
        for k in prange(dangling.shape[0]):
            lost += current[dangling[k]]
        base = damping * lost + (1.0 - damping)
        change = 0.0
        for i in prange(n):
            total = np.float32(0.0)
            for e in range(indptr[i], indptr[i + 1]):
                total += prob[e] * current[indices[e]]
            jump = base / n if uniform else base * p[i]
            value = damping * total + jump
            change += abs(value - current[i])
            other[i] = value
        current, other = other, current
        if change < tol or change >= before:
            break
        before = change
    return current, iterations, change


@njit(nogil=NOGIL, parallel=True, cache=True)
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


@njit(nogil=NOGIL, cache=True)
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


@njit(nogil=NOGIL, cache=True)
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


@njit(nogil=NOGIL, cache=True)
def strong_components(indptr: I64, indices: I32) -> tuple[int, I64]:
    """The strongly connected components of a graph given as out-link CSR (Tarjan 1972,
    with an explicit stack): their count and each node's component (sinks get the first
    numbers). scipy's ``connected_components`` holds the interpreter lock throughout (25 ms
    on DPDK's expertise walk, a stall for every reader of a server); this does not.
    """
    n = indptr.shape[0] - 1
    order = np.full(n, -1, dtype=np.int64)  # when each node was reached
    low = np.zeros(n, dtype=np.int64)  # the earliest node on the stack it reaches
    label = np.full(n, -1, dtype=np.int64)
    held = np.empty(n, dtype=np.int64)  # nodes reached whose component is still open
    on_held = np.zeros(n, dtype=np.bool_)
    path = np.empty(n, dtype=np.int64)  # the depth-first path, and the next link of each
    next_link = np.empty(n, dtype=np.int64)
    top = 0
    reached = 0
    count = 0
    for root in range(n):
        if order[root] >= 0:
            continue
        order[root] = low[root] = reached
        reached += 1
        held[top] = root
        top += 1
        on_held[root] = True
        path[0] = root
        next_link[0] = indptr[root]
        depth = 1
        while depth > 0:
            v = path[depth - 1]
            e = next_link[depth - 1]
            if e < indptr[v + 1]:
                next_link[depth - 1] = e + 1
                w = indices[e]
                if order[w] < 0:
                    order[w] = low[w] = reached
                    reached += 1
                    held[top] = w
                    top += 1
                    on_held[w] = True
                    path[depth] = w
                    next_link[depth] = indptr[w]
                    depth += 1
                elif on_held[w] and order[w] < low[v]:
                    low[v] = order[w]
                continue
            if low[v] == order[v]:  # v roots a component: everything held above it
                while True:
                    top -= 1
                    w = held[top]
                    on_held[w] = False
                    label[w] = count
                    if w == v:
                        break
                count += 1
            depth -= 1
            if depth > 0 and low[v] < low[path[depth - 1]]:
                low[path[depth - 1]] = low[v]
    return count, label


@njit(nogil=NOGIL, cache=True)
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


@njit(nogil=NOGIL, cache=True)
def dag_levels(indptr: I64, indices: I32, order: I64) -> I64:
    """The level of each node of an acyclic graph (out-link CSR, ``order`` topological): 0 for
    a node without in-links, else one more than the highest level linking to it. Nodes of one
    level never link to each other, so sorting by level keeps a topological order and lets a
    level be solved in parallel."""
    level = np.zeros(indptr.shape[0] - 1, dtype=np.int64)
    for t in range(order.shape[0]):
        u = order[t]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if level[v] <= level[u]:
                level[v] = level[u] + 1
    return level


@njit(nogil=NOGIL, cache=True)
def label_propagation(indptr: I64, indices: I32, rounds: int, seed: int) -> I64:
    """Communities of a symmetric pattern (CSR) by label propagation (Raghavan, Albert,
    Kumara 2007): each node, in a random order fixed by ``seed``, takes the label most of its
    neighbours hold (it keeps its own on a tie, else a tied label drawn at random), for at
    most ``rounds`` rounds or until fewer than 0.1% of the nodes change. Deterministic for a
    seed; one round reads every link once.
    """
    n = indptr.shape[0] - 1
    label = np.arange(n)
    np.random.seed(seed)
    order = np.random.permutation(n)
    count = np.zeros(n, dtype=np.int64)
    for _ in range(rounds):
        changed = 0
        for t in range(n):
            i = order[t]
            best = label[i]
            most = 0
            ties = 0
            for e in range(indptr[i], indptr[i + 1]):
                count[label[indices[e]]] += 1
            for e in range(indptr[i], indptr[i + 1]):
                held = label[indices[e]]
                if count[held] > most:
                    best = held
                    most = count[held]
                    ties = 1
                elif count[held] == most and held != best:
                    ties += 1  # a tie: each tied label equally likely (reservoir draw)
                    if np.random.random() * ties < 1.0:
                        best = held
            if count[label[i]] == most:
                best = label[i]  # keep the own label when it is among the most held
            for e in range(indptr[i], indptr[i + 1]):
                count[label[indices[e]]] = 0
            if most > 0 and best != label[i]:
                label[i] = best
                changed += 1
        if changed * 1000 < n:
            break
    return label


@njit(nogil=NOGIL, parallel=True, cache=True, fastmath=SUMS)
def _sweep(
    indptr: I64, indices: I32, prob: F32, p: F32, y: F32, lo: int, hi: int, damping: float
) -> tuple[float, float, int]:
    """One in-place Gauss-Seidel sweep over rows ``lo:hi`` (threads share it); returns the L1
    change, the sum of the new values and the links read.

    A row that is zero and has no teleport mass (personalized) is left as it is, its links
    unread: after :func:`pagerank_blocks` has solved the blocks in topological order, such a
    row's sources are all zero too (a positive one would have given it mass), so it stays
    zero. A query about one part of an organisation does not read the links of the others."""
    uniform = p.shape[0] == 0
    jump = (1.0 - damping) / (indptr.shape[0] - 1)
    moved = 0.0
    total = 0.0
    read = 0
    for i in prange(lo, hi):
        if not uniform and y[i] == 0 and p[i] == 0:
            continue
        acc = np.float32(0.0)
        for e in range(indptr[i], indptr[i + 1]):
            acc += prob[e] * y[indices[e]]
        value = damping * acc + (jump if uniform else (1.0 - damping) * p[i])
        moved += abs(value - y[i])
        total += value
        read += indptr[i + 1] - indptr[i]
        y[i] = value
    return moved, total, read


@njit(nogil=NOGIL, cache=True)
def _cold(indptr: I64, indices: I32, p: F32, y: F32, lo: int, hi: int) -> bool:
    """Whether the block ``lo:hi`` gets no mass: no teleport (personalized), a zero start,
    and every link from an earlier block from a row that is zero. Its solution is zero then,
    and no sweep of it is needed. Reads at most the block's links from earlier blocks (its
    in-links are sorted by source, so those come first in each row)."""
    if p.shape[0] == 0:
        return False
    for i in range(lo, hi):
        if p[i] != 0 or y[i] != 0:
            return False
    for i in range(lo, hi):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j >= lo:
                break
            if y[j] != 0:
                return False
    return True


@njit(nogil=NOGIL, parallel=True, cache=True, fastmath=SUMS)
def _block_inputs(
    indptr: I64, indices: I32, prob: F32, p: F32, y: F32, lo: int, hi: int, damping: float
) -> tuple[F64, I64, float]:
    """For rows ``lo:hi`` (one block; in-links sorted by source): the fixed part of each value
    (teleport + links from earlier blocks, which are final), where its in-block links start,
    and ``sum(prob * y[src])`` over the in-block links (for :func:`_balance`)."""
    uniform = p.shape[0] == 0
    jump = (1.0 - damping) / (indptr.shape[0] - 1)
    base = np.empty(hi - lo, dtype=np.float64)
    split = np.empty(hi - lo, dtype=np.int64)
    inner = 0.0
    for i in prange(lo, hi):
        start = indptr[i]
        end = indptr[i + 1]
        cut = start + np.searchsorted(indices[start:end], lo)
        acc = np.float32(0.0)
        for e in range(start, cut):
            acc += prob[e] * y[indices[e]]
        split[i - lo] = cut
        base[i - lo] = damping * acc + (jump if uniform else (1.0 - damping) * p[i])
        kept = np.float32(0.0)
        for e in range(cut, end):
            kept += prob[e] * y[indices[e]]
        inner += float(kept)
    return base, split, inner


@njit(nogil=NOGIL, cache=True)
def _balance(y: F32, base: F64, inner: float, lo: int, hi: int, damping: float) -> float:
    """Rescale the start of a cyclic block so that its mass balances: the exact solution
    satisfies ``sum(y) - d * inner = sum(base)`` (sum the block's equations), so ``y`` is
    multiplied by ``sum(base) / (sum(y) - d * inner)``: one aggregation step (Takahashi's
    iterative aggregation-disaggregation with the block as the only aggregate). It removes the
    block's scale error, which Gauss-Seidel sweeps shrink only slowly (a cold start is off by
    about 2x, a warm start by the change of the rank held by dangling nodes). Returns the
    factor (1.0 = left as is)."""
    held = 0.0
    for i in range(lo, hi):
        held += y[i]
    left = held - damping * inner
    wanted = 0.0
    for k in range(base.shape[0]):
        wanted += base[k]
    if left <= 0.0 or wanted <= 0.0:
        return 1.0
    factor = wanted / left
    for i in range(lo, hi):
        y[i] = np.float32(y[i] * factor)
    return factor


@njit(nogil=NOGIL, inline="always", cache=True)
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
    acc = np.float32(0.0)
    for e in range(split[k], indptr[lo + k + 1]):
        acc += prob[e] * y[indices[e]]
    return float(base[k] + damping * acc)


@njit(nogil=NOGIL, parallel=True, cache=True, fastmath=SUMS)
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


@njit(nogil=NOGIL, cache=True, fastmath=SUMS)
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


@njit(nogil=NOGIL, inline="always", cache=True)
def _dag_row(indptr: I64, indices: I32, prob: F32, p: F32, y: F32, i: int, damping: float) -> None:
    """Row ``i`` of a singleton component: its value follows exactly from values already
    final (a self-loop is solved in closed form). Its in-links come from earlier rows or
    itself and are sorted by source, so a self-loop is the last one: the loop over the others
    has no test (and vectorises)."""
    uniform = p.shape[0] == 0
    jump = (1.0 - damping) / (indptr.shape[0] - 1)
    acc = np.float32(0.0)
    loop = 0.0
    end = indptr[i + 1]
    if end > indptr[i] and indices[end - 1] == i:
        end -= 1
        loop = prob[end]
    for e in range(indptr[i], end):
        acc += prob[e] * y[indices[e]]
    base = jump if uniform else (1.0 - damping) * p[i]
    y[i] = (damping * acc + base) / (1.0 - damping * loop)


@njit(nogil=NOGIL, cache=True, fastmath=SUMS)
def _solve_dag_run(
    indptr: I64, indices: I32, prob: F32, p: F32, y: F32, lo: int, hi: int, damping: float
) -> None:
    """Rows ``lo:hi`` are singleton components in topological order: each is solved exactly
    from rows before it (:func:`_dag_row`), one after the other."""
    for i in range(lo, hi):
        _dag_row(indptr, indices, prob, p, y, i, damping)


@njit(nogil=NOGIL, parallel=True, cache=True, fastmath=SUMS)
def _solve_dag_wave(
    indptr: I64, indices: I32, prob: F32, p: F32, y: F32, lo: int, hi: int, damping: float
) -> None:
    """Rows ``lo:hi`` are singleton components none of which links to another of them (one
    *wave*, see :func:`dag_waves`): all threads solve them at once."""
    for i in prange(lo, hi):
        _dag_row(indptr, indices, prob, p, y, i, damping)


@njit(nogil=NOGIL, cache=True)
def dag_waves(indptr: I64, indices: I32, blocks: I64) -> npt.NDArray[np.bool_]:
    """Where runs of singleton blocks must be cut so that each piece can be solved in parallel.

    ``cut[b]`` is True when block ``b`` (a singleton) has an in-link from an earlier singleton
    of the current wave (a wave starts at the first singleton after a cyclic block or at a
    cut). With components sorted by level (:func:`~knotwork.graph.ppr.scc_order`), the waves
    are the levels of the condensation (5 on the 10M-link benchmark graph).
    """
    n_blocks = blocks.shape[0] - 1
    cut = np.zeros(n_blocks, dtype=np.bool_)
    start = -1
    for b in range(n_blocks):
        lo = blocks[b]
        if blocks[b + 1] - lo != 1:
            start = -1
            continue
        if start < 0:
            start = lo
            cut[b] = True
            continue
        for e in range(indptr[lo], indptr[lo + 1]):
            j = indices[e]
            if start <= j < lo:
                cut[b] = True
                start = lo
                break
    return cut


#: Sweeps of a cyclic block between two extrapolations (at least 3: the ratio of the last two
#: changes must agree with the one before).
EXTRAPOLATE_AFTER = 5


@njit(nogil=NOGIL, parallel=True, cache=True)
def _extrapolate(y: F32, previous: F32, lo: int, factor: float) -> None:
    """Aitken extrapolation of a block converging geometrically: when each sweep changes it by
    a steady ratio ``r`` of the change before, what is left to move is about
    ``r / (1 - r)`` times the last step (``factor``); jump there."""
    for k in prange(previous.shape[0]):
        y[lo + k] = np.float32(y[lo + k] + factor * (y[lo + k] - previous[k]))


@njit(nogil=NOGIL, cache=True)
def pagerank_blocks(
    indptr: I64,
    indices: I32,
    prob: F32,
    p: F32,
    y: F32,
    blocks: I64,
    cut: npt.NDArray[np.bool_],
    damping: float,
    tol: float,
    max_iter: int,
    parallel_rows: int,
    block_share: float,
    skip: npt.NDArray[np.bool_],
) -> tuple[F32, int, float, int]:
    """PageRank by blocks in topological order, for ``y = d * P~^T y + (1 - d) p``.

    The rows must be numbered so that every strongly connected component is one run
    ``blocks[b]:blocks[b + 1]`` and the components come in topological order (every in-link
    comes from an earlier block or the same one). ``P~`` is the walk with the dangling rows left
    empty: the PageRank vector is ``y / sum(y)`` (dangling jumps to ``p`` only rescale the
    solution; Del Corso, Gulli, Romani 2005), so there is no global dangling sum and the system
    is block triangular: a singleton block is solved exactly in one step from the blocks
    before it (a run of singletons is cut into waves by ``cut``, see :func:`dag_waves`, and
    threads share a wave of at least ``parallel_rows`` rows), and a cyclic block is iterated
    alone by in-place Gauss-Seidel sweeps (threads share a block of at least ``parallel_rows``
    rows; links from earlier blocks are summed once) until its L1 change is below its share
    ``block_share * tol * size / n``, or only moves float32 rounding noise
    (:data:`FLOAT32_FLOOR`). Before its sweeps a cyclic block's start is rescaled so that its
    mass balances (:func:`_balance`), and when its sweeps shrink the change by a steady ratio
    they are extrapolated (:func:`_extrapolate`, at most every :data:`EXTRAPOLATE_AFTER`
    sweeps); on the 10M-link benchmark graph the two cut the links read from 8.7 to 5.8
    passes cold, from 6.6 to 4.6 warm (10,000 new links). A cyclic block that gets no mass
    (:func:`_cold`, or ``skip[b]`` where the caller knows it: no seed, no start, no link from
    another block; a component the query does not reach) stays zero unswept, and the closing
    sweeps pass it by too (and zero rows of other blocks, :func:`_sweep`). ``skip`` may be
    empty. Then whole Gauss-Seidel sweeps run
    until one changes ``y`` by less than ``tol * sum(y)`` in L1 (the stopping rule of power
    iteration; usually the first one). ``p`` empty = uniform; ``y`` is the start (overwritten;
    only cyclic blocks use it). Returns ``y``, the whole sweeps, their last relative change
    and the links read.
    """
    n = indptr.shape[0] - 1
    work = 0
    b = 0
    n_blocks = blocks.shape[0] - 1
    dead = np.zeros(n_blocks, dtype=np.bool_)
    known = skip.shape[0] == n_blocks
    while b < n_blocks:
        lo = blocks[b]
        end = b
        while end < n_blocks and blocks[end + 1] - blocks[end] == 1:
            end += 1
        if end > b:  # a run of singletons, cut into waves
            work += indptr[blocks[end]] - indptr[lo]
            while b < end:
                wave = b + 1
                while wave < end and not cut[wave]:
                    wave += 1
                lo = blocks[b]
                hi = blocks[wave]
                if hi - lo >= parallel_rows:
                    _solve_dag_wave(indptr, indices, prob, p, y, lo, hi, damping)
                else:
                    _solve_dag_run(indptr, indices, prob, p, y, lo, hi, damping)
                b = wave
            continue
        hi = blocks[b + 1]
        if (known and skip[b]) or _cold(indptr, indices, p, y, lo, hi):
            dead[b] = True  # stays zero (a component the query does not reach)
            b += 1
            continue
        limit = tol * block_share * (hi - lo) / n
        base, split, held = _block_inputs(indptr, indices, prob, p, y, lo, hi, damping)
        work += indptr[hi] - indptr[lo]
        _balance(y, base, held, lo, hi, damping)
        inner = 0
        for k in range(split.shape[0]):
            inner += indptr[lo + k + 1] - split[k]
        previous = np.empty(hi - lo, dtype=np.float32)
        history = np.zeros(3)  # the last L1 changes since the start or the last extrapolation
        seen = 0
        for _ in range(max_iter):
            previous[:] = y[lo:hi]
            if hi - lo >= parallel_rows:
                moved, total = _block_sweep(indptr, indices, prob, y, base, split, lo, damping)
            else:
                moved, total = _block_sweep_serial(
                    indptr, indices, prob, y, base, split, lo, damping
                )
            work += inner
            if moved < max(limit, FLOAT32_FLOOR * total):
                break
            history[0], history[1], history[2] = history[1], history[2], moved
            seen += 1
            if seen >= EXTRAPOLATE_AFTER:
                ratio = history[2] / history[1]
                if abs(ratio - history[1] / history[0]) < 0.1 * ratio and ratio < 0.95:
                    _extrapolate(y, previous, lo, ratio / (1.0 - ratio))
                    seen = 0
        b += 1
    sweeps = 0
    change = np.inf
    while sweeps < max_iter:
        sweeps += 1
        moved = 0.0
        total = 0.0
        first = 0
        while first < n_blocks:  # each run of blocks that are not dead
            if dead[first]:
                first += 1
                continue
            last = first
            while last < n_blocks and not dead[last]:
                last += 1
            part, mass, read = _sweep(
                indptr, indices, prob, p, y, blocks[first], blocks[last], damping
            )
            moved += part
            total += mass
            work += read
            first = last
        change = moved / total
        if change < tol:
            break
    return y, sweeps, change, work
