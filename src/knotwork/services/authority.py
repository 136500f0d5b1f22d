"""Authority: who and what matters, by PageRank over the item + person graph.

Links are citations and citations are votes (Garfield 1955; Page et al. 1999). Each link kind
has a (forward, backward) weight, see :data:`AUTHORITY_WEIGHTS`: a commit votes for the files it
changes and a file passes its credit back to the commits that shaped it; items that cite items
vote for them; an item passes credit to the people who made it (authors, reviewers, ackers,
maintainers who handled it) in proportion to their share, and a review or ack is also an
endorsement of the item. Weights decay with age (the view's ``half_life``). The ranking is
warm-started from the previous vector of the same store, so a small change converges fast.

>>> from knotwork.graph.sample import sample_store
>>> store = sample_store()
>>> [p["key"] for p in top_people(store)]
['bob@example.org', 'ada@example.org']
>>> [i["key"] for i in top_items(store, kind="file")][:1]
['drivers/net/ice/ice.c']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from knotwork.graph.ppr import FastWalk, top
from knotwork.graph.rank import RankResult, Walk
from knotwork.graph.view import DAY, DEFAULT_HALF_LIFE_DAYS, GraphView, cached_view
from knotwork.model import NodeKind
from knotwork.store import schema
from knotwork.store.engine import Store

#: (forward, backward) weight of each link kind ``src -> dst`` in the authority graph.
AUTHORITY_WEIGHTS: dict[str, tuple[float, float]] = {
    "authored": (0.0, 1.0),
    "reviews": (0.5, 0.5),
    "acks": (0.5, 0.5),
    "tests": (0.25, 0.25),
    "reports": (0.0, 0.25),
    "suggests": (0.0, 0.25),
    "handles": (0.0, 0.5),
    "changed": (1.0, 1.0),
    "cites": (1.0, 0.0),
    "replies": (1.0, 0.0),
    "mentions": (0.5, 0.0),
    "reacts": (0.5, 0.0),
    "uses": (1.0, 0.0),
}

#: People without activity for this long (before ``as_of``) are shown as inactive.
INACTIVE_AFTER_DAYS = 730.0

#: Views with more nodes than this are ranked by the numba kernels (see :func:`authority`).
FAST_NODES = 20_000

_PREVIOUS: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = {}


def authority(
    view: GraphView,
    *,
    weights: Mapping[str, tuple[float, float]] | None = None,
    damping: float = 0.85,
    warm_key: str | None = None,
) -> RankResult:
    """The authority vector of every node of ``view`` (PageRank, see the module docstring).

    Computed once per view and settings (a view does not change; rankings, profiles and the
    market ask it on every read). It starts from the vector of the view this one was extended
    from (``view.warm_start``), else from the previous result named ``warm_key`` (e.g. the
    store URL). Views of more than :data:`FAST_NODES` nodes are ranked by the numba pull
    kernel (float32, L1 tolerance 1e-7 or float32's rounding), smaller ones by scipy (float64,
    1e-8).

    >>> from knotwork.graph.sample import sample_store
    >>> from knotwork.graph.view import GraphView
    >>> view = GraphView.build(sample_store())
    >>> authority(view) is authority(view)
    True
    """
    chosen = dict(AUTHORITY_WEIGHTS if weights is None else weights)
    settings = (tuple(sorted(chosen.items())), damping)
    ranked: RankResult = view.memo(
        ("authority-result", settings), lambda: _rank(view, chosen, settings, warm_key)
    )
    return ranked


def _rank(
    view: GraphView,
    chosen: dict[str, tuple[float, float]],
    settings: tuple[Any, float],
    warm_key: str | None,
) -> RankResult:
    damping = settings[1]
    fast = view.n_nodes > FAST_NODES
    walk: Walk | FastWalk = view.memo(
        ("authority-walk", fast, settings[0]),
        lambda: FastWalk(view.matrix(chosen)) if fast else Walk(view.matrix(chosen)),
    )
    start = view.warm_start(("authority", settings))
    if start is None and warm_key is not None and warm_key in _PREVIOUS:
        old_ids, old_vector = _PREVIOUS[warm_key]
        position = np.minimum(np.searchsorted(old_ids, view.ids), max(len(old_ids) - 1, 0))
        found = old_ids[position] == view.ids if len(old_ids) else np.zeros(view.n_nodes, bool)
        start = np.where(found, old_vector[position], 0.0) if found.any() else None
    if start is not None and start.sum() <= 0:
        start = None
    if isinstance(walk, FastWalk):
        result = walk.pagerank(damping=damping, start=start, tol=1e-7)
    else:
        result = walk.rank(damping=damping, start=start, tol=1e-8)
    view.memo(("authority", settings), lambda: result.vector)
    if warm_key is not None:
        _PREVIOUS[warm_key] = (view.ids, result.vector)
    return result


def describe(store: Store, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Kind, key, name and time of the nodes ``ids``, read from the store."""
    nodes = schema.nodes
    found: dict[int, dict[str, Any]] = {}
    wanted = list(dict.fromkeys(int(i) for i in ids))
    with store.connect() as connection:
        for start in range(0, len(wanted), 900):
            rows = connection.execute(
                select(nodes.c.id, nodes.c.kind, nodes.c.key, nodes.c.name, nodes.c.time).where(
                    nodes.c.id.in_(wanted[start : start + 900])
                )
            ).all()
            for row in rows:
                found[row.id] = {
                    "kind": row.kind,
                    "key": row.key,
                    "name": row.name,
                    "time": row.time,
                }
    return found


def activity(view: GraphView, position: int) -> dict[str, Any]:
    """When the node at ``position`` was last active, and whether that is long ago."""
    last = int(view.last_active[position])
    inactive = last < 0 or view.as_of - last > INACTIVE_AFTER_DAYS * DAY
    return {"last_active": None if last < 0 else last, "inactive": inactive}


def _served(store: Store, view: GraphView) -> tuple[npt.NDArray[np.float64], str]:
    """The authority vector ``top`` ranks by and who computed it: scores imported by
    ``knotwork import scores`` while fresh for ``view``, else this process's ranking."""
    from knotwork.scale.scores import imported_authority

    served = imported_authority(store, view)
    if served.vector is not None:
        return served.vector, served.computed_by
    return authority(view, warm_key=store.url).vector, served.computed_by


def _ranked(
    store: Store,
    view: GraphView,
    scores: npt.NDArray[np.float64],
    chosen: npt.NDArray[np.bool_],
    limit: int,
    computed_by: str,
) -> list[dict[str, Any]]:
    candidates = np.flatnonzero(chosen & (scores > 0))
    order = top(candidates, scores[candidates], limit)
    info = describe(store, [int(view.ids[i]) for i in order])
    result = []
    for rank, position in enumerate(order.tolist(), start=1):
        node = info.get(int(view.ids[position]), {})
        entry = {
            "rank": rank,
            "id": int(view.ids[position]),
            "kind": node.get("kind"),
            "key": node.get("key", view.keys[position]),
            "name": node.get("name", ""),
            "score": float(scores[position]),
            "computed_by": computed_by,
        }
        if node.get("kind") == NodeKind.PERSON.value:
            entry.update(activity(view, position))
        else:
            entry["time"] = node.get("time")
        result.append(entry)
    return result


def top_people(
    store: Store,
    *,
    limit: int = 20,
    as_of: int | None = None,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> list[dict[str, Any]]:
    """The people with the highest authority (bots left out), best first; ``computed_by``
    says whether the scores were imported (``knotwork import scores``) or computed here."""
    view = cached_view(store, as_of=as_of, half_life_days=half_life_days)
    vector, computed_by = _served(store, view)
    return _ranked(store, view, vector, view.people(), limit, computed_by)


def top_items(
    store: Store,
    *,
    kind: str | None = None,
    limit: int = 20,
    as_of: int | None = None,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> list[dict[str, Any]]:
    """The work items (of ``kind``, e.g. ``file``) with the highest authority, best first."""
    view = cached_view(store, as_of=as_of, half_life_days=half_life_days)
    vector, computed_by = _served(store, view)
    if kind is None:
        chosen = np.isin(view.kind, [i for i, k in enumerate(NodeKind) if k.family == "item"])
    else:
        chosen = view.mask(NodeKind(kind))
    return _ranked(store, view, vector, chosen, limit, computed_by)


__all__ = [
    "AUTHORITY_WEIGHTS",
    "FAST_NODES",
    "INACTIVE_AFTER_DAYS",
    "activity",
    "authority",
    "describe",
    "top_items",
    "top_people",
]
