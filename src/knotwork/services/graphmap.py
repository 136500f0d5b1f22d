"""The map of who works with whom: people placed on a plane, tied, coloured by emergent group.

The map's **ties** are the person-person projection of :mod:`knotwork.services.groups` at
``as_of`` (each person's ``top_k`` strongest ties, then at most ``max_links`` ties, strongest
first); its **colours** are the emergent groups found by Leiden on the same ties
(:func:`knotwork.services.groups.find_groups` with ``top_k``).

**Positions** are computed on the server once per store content (:func:`layout`, cached by
:func:`knotwork.graph.view.fingerprint`) over the whole history, so that a person keeps their
place when the time slider or a filter changes what is shown. Small maps are laid out by
Fruchterman-Reingold on the whole projection; large ones in two levels: the groups of the
whole history by Fruchterman-Reingold on the graph of groups, then each group's people around
their group's place (Fruchterman-Reingold within the group, or a disc for big groups).

**Privacy** (:func:`graph_map`): people who opted out are never on the map; groups of fewer
than ``k_min`` people are neither coloured nor named (admins see them, as with ``knotwork
groups``); authority, an individual metric, sizes the nodes for admins only; others see
uniform sizes with their own node marked.

The answer is compact: one array per column (``nodes.id``, ``nodes.x``, ...; ids as strings,
since they do not fit a JavaScript number), links as two arrays of node positions.

>>> from knotwork.graph.sample import sample_store
>>> answer = graph_map(sample_store(), k_min=3)
>>> len(answer["nodes"]["id"]), len(answer["links"]["src"]), answer["nodes"]["size"]
(2, 1, None)
>>> answer["nodes"]["group"], answer["groups"]
([-1, -1], [])
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import igraph as ig
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sqlalchemy import text

from knotwork.errors import InputError
from knotwork.graph.view import GraphView, cached_view, fingerprint
from knotwork.services.authority import authority
from knotwork.services.groups import GroupsResult, Projection, find_groups, projection
from knotwork.services.privacy import DEFAULT_K_MIN, check_k_min
from knotwork.store.engine import Store
from knotwork.store.erase import opted_out

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Each person keeps this many of their strongest ties on the map.
TOP_K = 12
#: At most this many ties on the map (the strongest).
MAX_LINKS = 200_000
#: Maps of at most this many people are laid out in one piece.
WHOLE_LAYOUT = 1500
#: Groups of at most this many people are laid out by force inside their disc.
GROUP_LAYOUT = 400


@dataclass(frozen=True)
class Layout:
    """Positions of people (sorted ``ids``) in ``[0, 1] x [0, 1]``."""

    ids: IntArray
    x: FloatArray
    y: FloatArray

    def place(self, ids: IntArray) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
        """Positions of ``ids`` and which of them have one."""
        if not len(self.ids):
            return np.zeros(len(ids)), np.zeros(len(ids)), np.zeros(len(ids), dtype=np.bool_)
        at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        found = self.ids[at] == ids
        return self.x[at], self.y[at], found


def _edges(adjacency: sp.csr_matrix) -> tuple[IntArray, IntArray, FloatArray]:
    """The upper triangle of a symmetric matrix as (row, col, weight)."""
    coo = adjacency.tocoo()
    upper = coo.row < coo.col
    return coo.row[upper].astype(np.int64), coo.col[upper].astype(np.int64), coo.data[upper]


def _force(n: int, rows: IntArray, cols: IntArray, weights: FloatArray, seed: int) -> FloatArray:
    """Fruchterman-Reingold positions of ``n`` nodes, centred, of radius about 1."""
    if n == 1:
        return np.zeros((1, 2))
    rng = np.random.default_rng(seed)
    graph = ig.Graph(n=n, edges=np.c_[rows, cols].tolist())
    start = rng.uniform(-1, 1, (n, 2)).tolist()
    scaled = (weights / weights.max()).tolist() if len(weights) else None
    coords = np.asarray(
        graph.layout_fruchterman_reingold(weights=scaled, niter=300, seed=start).coords
    )
    coords -= coords.mean(axis=0)
    radius = float(np.sqrt((coords**2).sum(axis=1)).max()) or 1.0
    return np.asarray(coords / radius, dtype=np.float64)


def _disc(n: int, seed: int) -> FloatArray:
    """``n`` points spread evenly over the unit disc (a sunflower spiral)."""
    k = np.arange(n) + 0.5
    angle = k * np.pi * (3 - np.sqrt(5)) + seed
    radius = np.sqrt(k / n)
    return np.asarray(np.c_[radius * np.cos(angle), radius * np.sin(angle)], dtype=np.float64)


def _two_level(adjacency: sp.csr_matrix, labels: npt.NDArray[np.int32]) -> FloatArray:
    """Groups placed by force on the graph of groups; people around their group's place."""
    k = int(labels.max()) + 1
    n = adjacency.shape[0]
    member = sp.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(k, n))
    between = (member @ adjacency @ member.T).tocsr()
    between.setdiag(0)
    between.eliminate_zeros()
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    centres = _force(k, *_edges(between), seed=0)
    spread = (
        float(np.median(np.sqrt(((centres[:, None] - centres[None]) ** 2).sum(-1)))) if k > 1 else 1
    )
    radius = np.sqrt(sizes / sizes.max()) * 0.12 * max(spread, 0.2)
    coords = np.zeros((n, 2))
    for g in range(k):
        members = np.flatnonzero(labels == g)
        if len(members) <= GROUP_LAYOUT:
            inner = adjacency[members][:, members].tocsr()
            local = _force(len(members), *_edges(inner), seed=g)
        else:
            local = _disc(len(members), g)
        coords[members] = centres[g] + local * radius[g]
    return coords


def _normalised(coords: FloatArray) -> FloatArray:
    low, high = coords.min(axis=0), coords.max(axis=0)
    return np.asarray((coords - low) / np.maximum(high - low, 1e-9).max(), dtype=np.float64)


def _projection(view: GraphView) -> Projection:
    """The map's ties: :func:`~knotwork.services.groups.projection` with :data:`TOP_K` (once
    per view)."""
    made: Projection = view.memo(
        ("graphmap-projection", TOP_K), lambda: projection(view, top_k=TOP_K)
    )
    return made


def _groups(view: GraphView, store: Store | None, k_min: int) -> GroupsResult:
    """The emergent groups of ``view``, all of them (privacy is applied later; once per view)."""
    label = store is not None and int(view.people().sum()) <= 5000
    made: GroupsResult = view.memo(
        ("graphmap-groups", k_min, label),
        lambda: find_groups(view, k_min=k_min, admin=True, label=label, store=store, top_k=TOP_K),
    )
    return made


def _place(view: GraphView) -> Layout:
    proj = _projection(view)
    tied = np.flatnonzero(np.diff(proj.adjacency.indptr) > 0)
    adjacency = proj.adjacency[tied][:, tied].tocsr()
    ids = proj.ids[tied]
    if not len(ids):
        return Layout(ids, np.zeros(0), np.zeros(0))
    if len(ids) <= WHOLE_LAYOUT:
        coords = _force(len(ids), *_edges(adjacency), seed=0)
    else:
        labels = _groups(view, None, DEFAULT_K_MIN).membership
        coords = _two_level(adjacency, np.array([labels[int(i)] for i in ids], dtype=np.int32))
    coords = _normalised(coords)
    order = np.argsort(ids)
    return Layout(ids[order], coords[order, 0], coords[order, 1])


_LOCK = threading.Lock()
#: One map or layout is computed at a time: a request arriving meanwhile (e.g. the retry of
#: one that timed out) waits for it and takes it from the cache.
_BUILD = threading.RLock()
_CACHE: OrderedDict[Any, Any] = OrderedDict()


def _cached(key: Any, make: Any) -> Any:
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    with _BUILD:
        with _LOCK:
            if key in _CACHE:
                return _CACHE[key]
        value = make()
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > 12:
            _CACHE.popitem(last=False)
    return value


def _store_key(store: Store) -> tuple[Any, ...]:
    return (store.url, id(store.engine), fingerprint(store))


def layout(store: Store) -> Layout:
    """The positions of the people of ``store`` over its whole history (cached per content)."""
    return _cached(("layout", _store_key(store)), lambda: _place(cached_view(store)))  # type: ignore[no-any-return]


def sources(store: Store) -> list[str]:
    """The sources the store's links came from, for the map's filter (cached per content:
    on a store of a million links the query takes a good part of a warm map's answer).

    >>> from knotwork.graph.sample import sample_store
    >>> sources(sample_store())
    ['git']
    """

    def query() -> list[str]:
        with store.connect() as connection:
            rows = connection.execute(text("SELECT DISTINCT source FROM links ORDER BY source"))
            return [str(r[0]) for r in rows]

    return list(_cached(("sources", _store_key(store)), query))


def _source_view(store: Store, source: str, as_of: int | None) -> GraphView:
    """A view of the links of one source only (and all nodes)."""
    with store.connect() as connection:
        nodes = connection.execute(text("SELECT id, kind, key, flags FROM nodes")).all()
        links = connection.execute(
            text("SELECT src, dst, kind, time, weight, flags FROM links WHERE source = :s"),
            {"s": source},
        ).all()
    return GraphView.from_rows(nodes, links, as_of=as_of)


def _base(store: Store, as_of: int | None, source: str | None, k_min: int) -> dict[str, Any]:
    """The map before privacy is applied for a viewer (cached per store content)."""
    view = cached_view(store, as_of=as_of) if source is None else _source_view(store, source, as_of)
    proj = _projection(view)
    tied = np.flatnonzero(np.diff(proj.adjacency.indptr) > 0)
    adjacency = proj.adjacency[tied][:, tied].tocsr()
    ids = proj.ids[tied]
    x, y, placed = layout(store).place(ids)
    rows, cols, weights = _edges(adjacency)
    if len(weights) > MAX_LINKS:
        strongest = np.argsort(-weights, kind="stable")[:MAX_LINKS]
        rows, cols = rows[strongest], cols[strongest]
    found = _groups(view, store, k_min)
    membership = np.array([found.membership.get(int(i), -1) for i in ids], dtype=np.int64)
    score = authority(view).vector[proj.positions[tied]] if len(ids) else np.zeros(0)
    with store.connect() as connection:
        named = connection.execute(text("SELECT id, name FROM nodes WHERE kind = 'person'"))
        names: dict[int, str] = {int(i): str(name or "") for i, name in named}
    times = view.time[view.time >= 0]
    return {
        "ids": ids,
        "x": np.where(placed, x, 0.5),
        "y": np.where(placed, y, 0.5),
        "names": [str(names.get(int(i)) or "") for i in ids.tolist()],
        "group": membership,
        "authority": score,
        "src": rows,
        "dst": cols,
        "groups": found.groups,
        "as_of": view.as_of,
        "span": [int(times.min()), int(times.max())] if len(times) else None,
    }


def graph_map(
    store: Store,
    *,
    as_of: int | None = None,
    source: str | None = None,
    k_min: int = DEFAULT_K_MIN,
    admin: bool = False,
    me: int | None = None,
) -> dict[str, Any]:
    """The map of ``store`` at ``as_of`` (links of ``source`` only, if given) for a viewer:
    ``admin`` or not, ``me`` their person id (see the module docstring for what each sees).
    """
    k_min = check_k_min(k_min)
    known = sources(store)
    if source is not None and source not in known:
        raise InputError("no links came from this source", place=source)
    hidden = opted_out(store)  # opting out changes no count: part of the key
    key = ("map", _store_key(store), as_of, source, k_min, frozenset(hidden))
    base: dict[str, Any] = _cached(key, lambda: _base(store, as_of, source, k_min))
    keep = ~np.isin(base["ids"], np.fromiter(hidden, dtype=np.int64, count=len(hidden)))
    new_index = np.cumsum(keep) - 1
    links = keep[base["src"]] & keep[base["dst"]]
    shown = {g.id for g in base["groups"] if admin or g.size >= k_min}
    group = np.where(np.isin(base["group"], list(shown)), base["group"], -1)[keep]
    ids = base["ids"][keep]
    size = None
    if admin and len(ids):
        score = base["authority"][keep]
        size = np.round(score / max(float(score.max()), 1e-12), 4).tolist()
    names = [n for n, k in zip(base["names"], keep.tolist(), strict=True) if k]
    groups = [
        {
            "id": g.id,
            "size": g.size,
            "label": ", ".join((g.paths or [])[:2] + (g.terms or [])[:2]) or f"group {g.id + 1}",
        }
        for g in base["groups"]
        if g.id in shown
    ]
    mine = np.flatnonzero(ids == me) if me is not None else np.zeros(0, dtype=np.int64)
    return {
        "as_of": base["as_of"],
        "span": base["span"],
        "source": source,
        "sources": known,
        "k_min": k_min,
        "admin": admin,
        "me": int(mine[0]) if len(mine) else -1,
        "nodes": {
            "id": [str(i) for i in ids.tolist()],
            "name": names,
            "x": np.round(base["x"][keep], 5).tolist(),
            "y": np.round(base["y"][keep], 5).tolist(),
            "group": group.tolist(),
            "size": size,
        },
        "links": {
            "src": new_index[base["src"][links]].tolist(),
            "dst": new_index[base["dst"][links]].tolist(),
        },
        "groups": groups,
        "hidden": {"small_groups": sum(1 for g in base["groups"] if g.id not in shown)},
    }


__all__ = ["MAX_LINKS", "TOP_K", "Layout", "graph_map", "layout", "sources"]
