"""The three questions of a learning organisation, answered for one person from the graph.

* **What information do I need?** (:func:`need_to_know`): open needs and recent items close to
  my work (personalized PageRank from my recent items) that I have not touched.
* **What information do I owe others?** (:func:`owe`): people who work on or depend on what I
  recently changed or decided (the items and files it touches, cites or affects) and with whom I
  have had no exchange about it (no shared item since).
* **With whom should I communicate?** (:func:`who_to_talk_to`): people close to my work in the
  graph (PageRank personalized on my recent items, as a who-to-follow service does) who are not
  yet among my direct ties, each with the reason.

>>> from knotwork.graph.sample import sample_store
>>> store = sample_store()
>>> sorted(questions(store, "bob@example.org"))
['need_to_know', 'owe', 'talk_to']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from knotwork.graph.view import DAY, LINK_KINDS, PARTICIPATION, GraphView, cached_view
from knotwork.services.market import PROXIMITY_WEIGHTS, open_items
from knotwork.services.me import MeContext, section
from knotwork.services.native_walk import walk_from, walk_matrix
from knotwork.store.engine import Store
from knotwork.store.identity import resolve

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: How far back "recent" items reach, before the view's moment.
RECENT_DAYS = 180.0
_ITEM_KINDS = ("commit", "message", "issue", "change", "review", "post", "document", "thread")


def _participation(view: GraphView) -> tuple[IntArray, IntArray, IntArray]:
    codes = [LINK_KINDS.index(k) for k in (*PARTICIPATION, "replies", "needs", "offers")]
    keep = np.isin(view.link_kind, codes)
    return view.src[keep].astype(np.int64), view.dst[keep].astype(np.int64), view.time[keep]


def recent_items(view: GraphView, position: int, days: float = RECENT_DAYS) -> IntArray:
    """Positions of the items the person at ``position`` took part in lately (else ever)."""
    src, dst, when = _participation(view)
    mine = src == position
    recent = mine & (when >= view.as_of - days * DAY)
    return np.unique(dst[recent if recent.any() else mine])


def _mass(view: GraphView, seeds: IntArray) -> FloatArray:
    vector = np.zeros(view.n_nodes)
    vector[seeds] = 1.0
    return walk_from(view, "proximity", PROXIMITY_WEIGHTS, vector)


def ties(view: GraphView, position: int) -> set[int]:
    """Positions of the people who took part in an item with the person at ``position``."""
    src, dst, _ = _participation(view)
    items = np.unique(dst[src == position])
    return set(np.unique(src[np.isin(dst, items)]).tolist()) - {position}


def who_to_talk_to(view: GraphView, person: int, *, limit: int = 10) -> list[dict[str, Any]]:
    """People close to ``person``'s recent work but not among their direct ties, best first."""
    position = view.index_of(person)
    seeds = recent_items(view, position)
    if not len(seeds):
        return []
    mass = _mass(view, seeds)
    degree = np.asarray(walk_matrix(view, "proximity", PROXIMITY_WEIGHTS).sum(axis=1)).ravel()
    score = mass / np.maximum(degree, 1e-12) ** 0.3
    known = ties(view, position) | {position}
    people = np.flatnonzero(view.people() & (mass > 0))
    people = people[~np.isin(people, list(known))]
    order = people[np.argsort(-score[people], kind="stable")][:limit]
    src, dst, _ = _participation(view)
    result = []
    for candidate in order.tolist():
        theirs = np.unique(dst[src == candidate])
        around = np.isin(view.src, theirs)
        near = np.unique(np.r_[theirs, view.dst[around]])
        near = near[~view.people()[near] & ~np.isin(near, theirs)] if len(near) else near
        pool = near if len(near) else theirs
        best = pool[np.argsort(-mass[pool], kind="stable")][:2]
        result.append(
            {
                "person": int(view.ids[candidate]),
                "key": view.keys[candidate],
                "score": float(score[candidate]),
                "reason": "works on "
                + ", ".join(view.keys[int(i)][:40] for i in best)
                + " close to your recent work",
            }
        )
    return result


def need_to_know(store: Store, view: GraphView, person: int, *, limit: int = 10) -> dict[str, Any]:
    """Open needs of others and recent items close to my work that I have not touched."""
    position = view.index_of(person)
    seeds = recent_items(view, position)
    mass = _mass(view, seeds) if len(seeds) else np.zeros(view.n_nodes)
    src, dst, _ = _participation(view)
    touched = set(dst[src == position].tolist())
    newest = np.full(view.n_nodes, -1, dtype=np.int64)
    np.maximum.at(newest, view.dst, view.time)
    recent = view.mask(*_ITEM_KINDS) & (mass > 0) & (newest >= view.as_of - RECENT_DAYS * DAY)
    candidates = np.flatnonzero(recent)
    candidates = candidates[~np.isin(candidates, list(touched))]
    order = candidates[np.argsort(-mass[candidates], kind="stable")][:limit]
    items = [
        {"id": int(view.ids[i]), "key": view.keys[i], "score": float(mass[i])}
        for i in order.tolist()
    ]
    needs = []
    for item in open_items(store, "need"):
        if item["owner"] == person:
            continue
        try:
            closeness = float(mass[view.index_of(item["id"])])
        except KeyError:
            closeness = 0.0
        needs.append(
            {"id": item["id"], "name": item["name"], "owner": item["owner"], "closeness": closeness}
        )
    needs.sort(key=lambda n: -n["closeness"])
    return {"needs": needs[:limit], "items": items}


def owe(view: GraphView, person: int, *, limit: int = 10) -> list[dict[str, Any]]:
    """People who work on or depend on what I recently changed, with no exchange since."""
    position = view.index_of(person)
    mine = recent_items(view, position)
    if not len(mine):
        return []
    # what my items touch (files changed, items cited or affected), then the items on those
    people = view.people()
    near = np.isin(view.src, mine) | np.isin(view.dst, mine)
    touched = np.unique(np.r_[view.src[near], view.dst[near]])
    touched = touched[~people[touched]]
    around = np.isin(view.src, touched) | np.isin(view.dst, touched)
    related = np.unique(np.r_[view.src[around], view.dst[around], touched])
    related = related[~people[related]]
    src, dst, when = _participation(view)
    theirs = np.isin(dst, related) & people[src] & (src != position)
    since = int(view.time[np.isin(view.dst, mine)].min())
    exchanged = ties_since(src, dst, when, position, since)
    counts: dict[int, int] = {}
    for p in src[theirs].tolist():
        if p not in exchanged:
            counts[p] = counts.get(p, 0) + 1
    order = sorted(counts, key=lambda p: (-counts[p], view.keys[p]))[:limit]
    return [
        {
            "person": int(view.ids[p]),
            "key": view.keys[p],
            "links": counts[p],
            "reason": f"works on {counts[p]} items next to what you changed",
        }
        for p in order
    ]


def ties_since(src: IntArray, dst: IntArray, when: IntArray, position: int, since: int) -> set[int]:
    """People who shared an item with ``position`` made at or after ``since``."""
    mine = np.unique(dst[(src == position) & (when >= since)])
    return set(np.unique(src[np.isin(dst, mine)]).tolist()) - {position}


def questions(store: Store, alias: str, *, limit: int = 10) -> dict[str, Any]:
    """The three questions for the person known by ``alias``."""
    person = resolve(store, alias)
    view = cached_view(store)
    try:
        view.index_of(person)
    except KeyError:
        return {"need_to_know": {"needs": [], "items": []}, "owe": [], "talk_to": []}
    return {
        "need_to_know": need_to_know(store, view, person, limit=limit),
        "owe": owe(view, person, limit=limit),
        "talk_to": who_to_talk_to(view, person, limit=limit),
    }


@section("questions")
def _section(context: MeContext) -> dict[str, Any]:
    """The three questions as a section of ``knotwork me``."""
    view, person = context.view, context.person
    return {
        "need_to_know": need_to_know(context.store, view, person),
        "owe": owe(view, person),
        "talk_to": who_to_talk_to(view, person),
    }


__all__ = [
    "RECENT_DAYS",
    "need_to_know",
    "owe",
    "questions",
    "recent_items",
    "ties",
    "who_to_talk_to",
]
