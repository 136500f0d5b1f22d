"""Live views: read the store in chunks, and bring a view up to date with only what changed.

The store numbers rows as they are appended (migration ``0003_live``: ``rowid`` on SQLite, a
``seq`` column on PostgreSQL; an update to a column that views read moves the row to a new
number). A view remembers its **mark**: the highest numbers it has read, how many rows it
read, and the state of the identity merges. :func:`refresh` then reads only the rows above
the mark and returns a new view with them appended (:func:`extend`), the same as a full
rebuild would give: link order, positions and matrices equal, decayed weights equal to float32
rounding. A full rebuild happens instead when rows were updated or deleted (the row counts do
not add up), when identities were merged or split, or when a link that named a missing node
may now be complete.

Warm starts: the extended view keeps the previous view's node ids and memo in ``previous``, and
:meth:`knotwork.graph.view.GraphView.warm_start` re-indexes a memoised ranking vector to it.

>>> from knotwork.graph.sample import sample_store
>>> store = sample_store()
>>> view = GraphView.build(store)
>>> refresh(store, view) is view
True
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from knotwork.graph.view import (
    DEFAULT_HALF_LIFE_DAYS,
    LINK_KINDS,
    NODE_KINDS,
    GraphView,
    KeyArray,
    LinkArrays,
    NodeArrays,
    _decay,
    _keys,
    _positions,
    key_array,
)
from knotwork.model import Flag
from knotwork.store.engine import Store

#: Rows per ``fetchmany`` while reading. Converting a chunk to arrays holds the interpreter
#: lock throughout, so a server's readers wait for at most one chunk of a view's refresh: at
#: 65,536 rows that was 10-30 ms a chunk; a full read of DPDK took as long with 4,096.
CHUNK = 4_096

_NODE_CODES = {k: i for i, k in enumerate(NODE_KINDS)}
_LINK_CODES = {k: i for i, k in enumerate(LINK_KINDS)}


def sequence_column(store: Store) -> str:
    """The column that numbers rows in append order on this backend."""
    return "rowid" if store.backend == "sqlite" else "seq"


def _state(cursor: Any, seq: str) -> tuple[int, ...]:
    cursor.execute(
        f"SELECT (SELECT coalesce(max({seq}), 0) FROM links), (SELECT count(*) FROM links), "
        f"(SELECT coalesce(max({seq}), 0) FROM nodes), (SELECT count(*) FROM nodes), "
        "(SELECT count(*) FROM merges), (SELECT count(split) FROM merges), "
        "(SELECT count(*) FROM aliases)"
    )
    return tuple(int(v) for v in cursor.fetchone())


def _fill(cursor: Any, size: int, convert: Sequence[Callable[[Sequence[Any]], Any]]) -> list[Any]:
    """Read the cursor's rows chunk by chunk into one preallocated array per column
    (``convert[i]`` turns a chunk of column ``i`` into values; a list result collects)."""
    out: list[Any] = []
    position = 0
    while True:
        rows = cursor.fetchmany(CHUNK)
        if not rows:
            break
        columns = list(zip(*rows, strict=True))
        end = position + len(rows)
        for i, column in enumerate(columns):
            values = convert[i](column)
            if position == 0:
                out.append(
                    [] if isinstance(values, list) else np.empty(max(size, end), values.dtype)
                )
            if isinstance(values, list):
                out[i].extend(values)
                continue
            if end > len(out[i]):
                out[i] = np.resize(out[i], 2 * end)
            out[i][position:end] = values
        position = end
    return [o if isinstance(o, list) else o[:position] for o in out]


def _node_chunk(cursor: Any, where: str, size: int) -> NodeArrays:
    cursor.execute(f"SELECT id, kind, key, flags FROM nodes {where}")
    filled = _fill(
        cursor,
        size,
        [
            lambda c: np.array(c, dtype=np.int64),
            lambda c: np.array([_NODE_CODES.get(k, -1) for k in c], dtype=np.int16),
            list,
            lambda c: np.array(c, dtype=np.int64),
        ],
    )
    if not filled:
        return NodeArrays(np.zeros(0, np.int64), np.zeros(0, np.int16), np.zeros(0, np.int64), [])
    return NodeArrays(filled[0], filled[1], filled[3], filled[2])


#: Link columns as the database returns them: kinds as codes, no NULL times.
_LINK_ROW = np.dtype(
    [
        ("src", "i8"),
        ("dst", "i8"),
        ("kind", "i1"),
        ("time", "i8"),
        ("weight", "f4"),
        ("flags", "i8"),
    ]
)
_LINK_SELECT = (
    "SELECT src, dst, CASE kind "
    + " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(LINK_KINDS))
    + " ELSE -1 END, coalesce(time, -1), weight, flags FROM links"
)


def _link_chunk(cursor: Any, where: str, size: int) -> LinkArrays:
    """Links read chunk by chunk with ``np.fromiter`` into one preallocated record array."""
    cursor.execute(f"{_LINK_SELECT} {where}")
    table = np.empty(size, dtype=_LINK_ROW)
    position = 0
    while rows := cursor.fetchmany(CHUNK):
        end = position + len(rows)
        if end > len(table):
            table = np.resize(table, 2 * end)
        table[position:end] = np.fromiter(rows, dtype=_LINK_ROW, count=len(rows))
        position = end
    table = table[:position]
    return LinkArrays(
        np.ascontiguousarray(table["src"]),
        np.ascontiguousarray(table["dst"]),
        np.ascontiguousarray(table["kind"]),
        np.ascontiguousarray(table["time"]),
        np.ascontiguousarray(table["weight"]),
        np.ascontiguousarray(table["flags"]),
    )


def read_store(
    store: Store, since: tuple[int, ...] | None = None
) -> tuple[NodeArrays, LinkArrays, tuple[int, ...]]:
    """The nodes and links of ``store`` (only those above the mark ``since`` when given), in
    append order, with the store's state as a new mark: (link seq, links, node seq, nodes,
    merges, splits, aliases), the highest sequence numbers and row counts.

    >>> from knotwork.graph.sample import sample_store
    >>> nodes, links, mark = read_store(sample_store())
    >>> len(nodes.ids), len(links.src), mark[1], mark[3]
    (9, 12, 12, 9)
    """
    seq = sequence_column(store)
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        state = _state(cursor, seq)
        low_links, low_nodes = (since[0], since[2]) if since else (0, 0)
        links = _link_chunk(
            cursor,
            f"WHERE {seq} > {low_links} AND {seq} <= {state[0]} ORDER BY {seq}",
            state[1] if since is None else 0,
        )
        nodes = _node_chunk(
            cursor,
            f"WHERE {seq} > {low_nodes} AND {seq} <= {state[2]}",
            state[3] if since is None else 0,
        )
        cursor.close()
    finally:
        raw.close()
    return nodes, links, state


def _merge_keys(view: GraphView, new_ids: npt.NDArray[np.int64], new_keys: KeyArray) -> KeyArray:
    """The keys of ``view`` with ``new_keys`` placed in id order (ids are hashes of the keys,
    so new nodes fall anywhere), copied in C.

    >>> from knotwork.graph.sample import sample_store
    >>> view = GraphView.build(sample_store())
    >>> new = np.array([view.ids[2] + 1, view.ids[0] - 1])
    >>> keys = _merge_keys(view, new, key_array(["b", "a"]))
    >>> keys[0], keys[4], list(keys[1:4]) == list(view.keys[:3])
    ('a', 'b', True)
    >>> list(keys[5:]) == list(view.keys[3:])
    True
    """
    if not len(new_ids):
        return view.keys
    chosen = np.argsort(new_ids, kind="stable")
    at = np.searchsorted(view.ids, new_ids[chosen])
    return np.insert(view.keys, at, new_keys[chosen])


_LINEAGE = itertools.count(1)


def lineage(view: GraphView) -> int:
    """A token shared by a view and every view extended from it (:func:`refresh`), new for a
    view built from scratch: a service that keeps derived data of a view (a walk matrix) may
    patch it for a later view of the same lineage, whose first links are the same links.

    >>> from knotwork.graph.sample import sample_store
    >>> view = GraphView.build(sample_store())
    >>> lineage(view) == lineage(view) != lineage(GraphView.build(sample_store()))
    True
    """
    token: int = view.memo(("lineage",), lambda: next(_LINEAGE))
    return token


def extend(view: GraphView, nodes: NodeArrays, links: LinkArrays) -> GraphView | None:
    """``view`` with new ``nodes`` and ``links`` appended, or ``None`` when only a full
    rebuild gives the right answer (a new node may complete a link left out before, a node
    already in the view, no trusted link to place the decay reference on)."""
    if len(nodes.ids) and view.dropped:
        return None
    if not view.trusted.any() and view.n_links:
        return None
    ids = np.concatenate([view.ids, nodes.ids])
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    if len(ids) > 1 and bool((ids[1:] == ids[:-1]).any()):
        return None
    kind = np.concatenate([view.kind, np.asarray(nodes.kind, np.int16)])[order]
    flags = np.concatenate([view.flags, nodes.flags])[order]
    new_keys = key_array(nodes.keys) if nodes.keys is not None else _keys(nodes.ids)
    keys = _merge_keys(view, nodes.ids, new_keys)
    moved, _ = _positions(ids, view.ids)
    src, known_src = _positions(ids, links.src)
    dst, known_dst = _positions(ids, links.dst)
    known = known_src & known_dst & (links.kind >= 0)
    trusted = (links.time >= 0) & ((links.flags & int(Flag.TIME_SUSPECT)) == 0)
    weight = view.weight
    explicit = view.as_of if view.explicit else None
    reference = view.as_of
    if explicit is None:
        newest = int(links.time[trusted].max()) if trusted.any() else reference
        if not view.n_links:
            return None
        if newest > reference:
            factor = np.float32(np.exp2(-(newest - reference) / (view.half_life_days * 86_400)))
            weight = np.where(view.trusted, weight * factor, weight).astype(np.float32)
            reference = newest
        keep = known
    else:
        keep = known & trusted & (links.time <= explicit)
    decayed = _decay(links.weight, links.time, trusted, reference, view.half_life_days)
    last_active = np.full(len(ids), -1, dtype=np.int64)
    last_active[moved] = view.last_active
    result = GraphView(
        ids=ids,
        kind=kind,
        flags=flags,
        keys=keys,
        src=np.concatenate([moved[view.src], src[keep]]),
        dst=np.concatenate([moved[view.dst], dst[keep]]),
        link_kind=np.concatenate([view.link_kind, links.kind[keep]]),
        time=np.concatenate([view.time, links.time[keep]]),
        weight=np.concatenate([weight, decayed[keep]]),
        as_of=reference,
        half_life_days=view.half_life_days,
        last_active=last_active,
        trusted=np.concatenate([view.trusted, trusted[keep]]),
        dropped=view.dropped + int((~known).sum()),
        explicit=view.explicit,
        previous=(view.ids, view._cache),
    )
    result.touch(np.arange(view.n_links, result.n_links))
    return result


#: How :func:`refresh` reads what changed: ``read(store, since)`` as :func:`read_store`.
Changes = Callable[[Store, tuple[int, ...] | None], tuple[NodeArrays, LinkArrays, tuple[int, ...]]]


def shared_changes() -> Changes:
    """A reader of changes for :func:`refresh` that reads each mark's changes once: the views
    of one store (one per decay setting) refreshed together share the new rows, which a server
    otherwise read from the database, and held the interpreter lock for, once per view.

    >>> from knotwork.graph.sample import sample_store
    >>> store = sample_store()
    >>> read = shared_changes()
    >>> first = refresh(store, GraphView.build(store), read=read)
    >>> read(store, first.mark) is read(store, first.mark)
    True
    """
    done: dict[tuple[int, ...] | None, tuple[NodeArrays, LinkArrays, tuple[int, ...]]] = {}

    def read(
        store: Store, since: tuple[int, ...] | None
    ) -> tuple[NodeArrays, LinkArrays, tuple[int, ...]]:
        if since not in done:
            done[since] = read_store(store, since=since)
        return done[since]

    return read


def refresh(
    store: Store,
    view: GraphView | None,
    *,
    as_of: int | None = None,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    read: Changes = read_store,
) -> GraphView:
    """``view`` if the store did not change since it was read, else a view with what changed
    added (:func:`extend`), else a full rebuild. ``as_of``/``half_life_days`` are used for a
    view built from scratch (``view`` is ``None``); ``read`` reads what changed since a mark
    (see :func:`shared_changes`)."""
    if view is None or view.mark is None:
        return GraphView.build(store, as_of=as_of, half_life_days=half_life_days)
    mark = view.mark
    nodes, links, new = read(store, mark)
    if new == mark:
        return view
    appended = new[1] == mark[1] + len(links.src) and new[3] == mark[3] + len(nodes.ids)
    if appended and new[4:6] == mark[4:6]:
        if not len(links.src) and not len(nodes.ids):
            extended: GraphView | None = replace(view, _cache={}, previous=(view.ids, view._cache))
        else:
            extended = extend(view, nodes, links)
        if extended is not None:
            extended.mark = new
            extended._cache[("lineage",)] = lineage(view)
            view.previous = None  # one level of history: older views are not kept alive
            return extended
    return GraphView.build(
        store, as_of=view.as_of if view.explicit else None, half_life_days=view.half_life_days
    )
