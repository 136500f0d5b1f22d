"""The walks of the native services (affected people, matching, the three questions), kept live.

:func:`walk_from` is the personalized PageRank (damping 0.5) that :mod:`~knotwork.services.market`,
:mod:`~knotwork.services.decisions` and :mod:`~knotwork.services.questions` run from their seeds.
On a live platform people write all the time, and every write extends the cached view
(:func:`knotwork.graph.live.refresh`); so that the first query after a write stays cheap:

* the walk's matrix is **patched**, not rebuilt (:func:`walk_matrix`): the matrix of the last
  view of the same lineage (:func:`knotwork.graph.live.lineage`: the views extended from one
  build share their first links), re-indexed to the new node positions, plus the new links;
  the same matrix as :meth:`~knotwork.graph.view.GraphView.matrix` would build, to float
  rounding (a moved decay reference scales every old dated weight alike: so does the patch;
  with undated links among them it rebuilds). The walk's own arrays
  (:class:`~knotwork.graph.ppr.FastWalk`) are still built from the matrix after each write:
  on DPDK's graph that is the largest part of the first query after a write;
* on views of more than :data:`FAST_LINKS` links the power iteration of a new seed set starts
  from the estimate of a forward push with bounded work
  (:meth:`knotwork.graph.ppr.FastWalk.personalized`, ``method="auto"``): measured on DPDK's
  graph, 3 ms for 13 passes over the links instead of 21 to the same tolerance. The push
  alone is not the answer: its error on people (hubs) reached 8% of the strongest person's
  mass there, enough to move people across the affected threshold.

>>> from knotwork.graph.sample import sample_store
>>> from knotwork.graph.view import GraphView
>>> view = GraphView.build(sample_store())
>>> seeds = np.zeros(view.n_nodes); seeds[0] = 1.0
>>> round(float(walk_from(view, "doc", {"authored": (1.0, 1.0)}, seeds).sum()), 6)
1.0
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knotwork.graph.live import lineage
from knotwork.graph.ppr import PUSH_SEEDS, FastWalk
from knotwork.graph.rank import Walk
from knotwork.graph.view import DAY, LINK_KINDS, GraphView

FloatArray = npt.NDArray[np.float64]
Weights = Mapping[str, tuple[float, float]]

#: Views with more links than this walk with the numba kernels of :mod:`knotwork.graph.ppr`;
#: smaller ones with scipy's power iteration (:class:`knotwork.graph.rank.Walk`). On DPDK's
#: graph (300,000 links, 580,000 walk entries), measured in one run on 2 busy cores (CPU
#: time, one numba thread): building the walk 9 ms (scipy) vs 16 ms (numba), 21 iterations
#: 18 vs 21 ms, and scipy needs no compiled code loaded: the first numba kernel of a process
#: costs 0.7 s of CPU to load from the cache (and seconds to compile when the cache is cold).
#: Numba's parallel kernels win on graphs of millions of links.
FAST_LINKS = 1_000_000

#: A walk matrix is patched from the last one of its lineage when at most this many links
#: were added since; more, and it is built again from every link.
PATCH_LINKS = 100_000

#: How many (lineage, walk) matrices are kept for patching.
_KEEP = 8
_LAST: OrderedDict[tuple[int, str, Any], tuple[npt.NDArray[np.int64], sp.csr_matrix, int, int]]
_LAST = OrderedDict()
_LOCK = threading.Lock()


def _coefficients(weights: Weights) -> tuple[FloatArray, FloatArray]:
    forward, backward = np.zeros(len(LINK_KINDS)), np.zeros(len(LINK_KINDS))
    for name, (fw, bw) in weights.items():
        forward[LINK_KINDS.index(name)] = fw
        backward[LINK_KINDS.index(name)] = bw
    return forward, backward


def _patch(
    view: GraphView,
    weights: Weights,
    old_ids: npt.NDArray[np.int64],
    old: sp.csr_matrix,
    old_links: int,
    old_as_of: int,
) -> sp.csr_matrix | None:
    """The matrix of ``view`` from ``old`` (of the view of the same lineage with the nodes
    ``old_ids`` and the first ``old_links`` links), or ``None`` when it must be rebuilt."""
    n, added = view.n_nodes, view.n_links - old_links
    if not 0 <= added <= PATCH_LINKS or n < len(old_ids):
        return None
    moved = np.searchsorted(view.ids, old_ids)
    if len(old_ids) and (moved[-1] >= n or not np.array_equal(view.ids[moved], old_ids)):
        return None
    forward, backward = _coefficients(weights)
    data = old.data
    if view.as_of != old_as_of:
        # the decay reference moved: the view scaled every old trusted weight alike
        shift = (view.as_of - old_as_of) / (view.half_life_days * DAY)
        factor = float(np.float32(np.exp2(-shift)))
        if factor != 1.0:
            used = (forward + backward)[view.link_kind[:old_links]] > 0
            if bool((used & ~view.trusted[:old_links]).any()):
                return None  # undated links keep their weight: not a uniform scale
            data = data * factor
    lengths = np.zeros(n, dtype=np.int64)
    lengths[moved] = np.diff(old.indptr)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    base = sp.csr_matrix((data, moved[old.indices], indptr), shape=(n, n))
    if not added:
        return base
    src, dst = view.src[old_links:], view.dst[old_links:]
    kinds, weight = view.link_kind[old_links:], view.weight[old_links:].astype(np.float64)
    values = np.concatenate([weight * forward[kinds], weight * backward[kinds]])
    rows, cols = np.concatenate([src, dst]), np.concatenate([dst, src])
    keep = values > 0
    delta = sp.csr_matrix((values[keep], (rows[keep], cols[keep])), shape=(n, n))
    return sp.csr_matrix(base + delta)


def walk_matrix(view: GraphView, name: str, weights: Weights) -> sp.csr_matrix:
    """The walk matrix of ``weights`` on ``view`` (as :meth:`GraphView.matrix` builds it),
    patched from the last one of the view's lineage when few links were added since.

    >>> from knotwork.graph.sample import sample_store
    >>> from knotwork.graph.view import GraphView
    >>> view = GraphView.build(sample_store())
    >>> weights = {"authored": (1.0, 1.0)}
    >>> (walk_matrix(view, "doc", weights) != view.matrix(weights)).nnz
    0
    """
    key = ("native-matrix", name, tuple(sorted(weights.items())))
    cached = view._cache.get(key)
    if cached is not None:
        return cached
    slot = (lineage(view), name, key[2])
    with _LOCK:
        last = _LAST.get(slot)
    matrix = _patch(view, weights, *last) if last is not None else None
    if matrix is None:
        matrix = view.matrix(weights)
    view._cache[key] = matrix
    with _LOCK:
        _LAST[slot] = (view.ids, matrix, view.n_links, view.as_of)
        _LAST.move_to_end(slot)
        while len(_LAST) > _KEEP:
            _LAST.popitem(last=False)
    return matrix


def walk_from(
    view: GraphView,
    name: str,
    weights: Weights,
    seeds: FloatArray,
    *,
    warm: Any = None,
) -> FloatArray:
    """Personalized PageRank (damping 0.5) from ``seeds`` on the walk of ``weights``, as a
    distribution over the view's nodes.

    The walk is built once per view from :func:`walk_matrix` (numba kernels above
    :data:`FAST_LINKS` links, scipy below). With ``warm`` the result is kept under that key
    and the next call (or the next view's) starts from it; else a large view starts from a
    forward push's estimate (see the module docstring). L1 tolerance 1e-6.
    """
    fast = view.n_links > FAST_LINKS
    walk = view.memo(
        ("native-walk", name, fast),
        lambda: (
            FastWalk(walk_matrix(view, name, weights), order="none")
            if fast
            else Walk(walk_matrix(view, name, weights))
        ),
    )
    chosen = np.flatnonzero(seeds > 0)
    if not len(chosen):
        return np.zeros(view.n_nodes)
    start = view.warm_start(warm) if warm is not None else None
    if start is not None and start.sum() <= 0:
        start = None
    if isinstance(walk, FastWalk):
        if start is None and len(chosen) <= PUSH_SEEDS:  # 13 passes instead of 21
            nodes, values = walk.personalized(
                dict(zip(chosen.tolist(), seeds[chosen].tolist(), strict=True)), damping=0.5
            )
            start = np.zeros(view.n_nodes)
            start[nodes] = values
        result = walk.pagerank(
            damping=0.5, personalization=seeds, start=start, tol=1e-6, max_iter=60
        )
    else:
        result = walk.rank(damping=0.5, personalization=seeds, start=start, tol=1e-6, max_iter=60)
    vector = np.asarray(result.vector, dtype=np.float64)
    if warm is not None:
        view._cache[warm] = vector
    return vector


__all__ = ["FAST_LINKS", "PATCH_LINKS", "walk_from", "walk_matrix"]
