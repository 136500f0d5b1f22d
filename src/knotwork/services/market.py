"""The market of needs and offers: commitments within capacity, and matching with reasons.

A **need** asks for information or help; an **offer** declares spare capacity in hours per week
(:mod:`knotwork.services.native` writes both). An offer is committed to a need with
:func:`commit`, never beyond its capacity. :func:`match` ranks people (and their open offers)
for a need by four signals, each scaled to [0, 1] over the candidates and combined with
:data:`MATCH_WEIGHTS`: **text** (BM25 of the need's text over what each person wrote or
offered), **proximity** (personalized PageRank from the need's context: the items its words
match best, what it cites and, a little, its owner), **authority** (PageRank of the person)
and **capacity** (open offer hours left). Each match comes with the reasons.

>>> from knotwork.graph.sample import sample_store
>>> from knotwork.services.native import need, offer
>>> store = sample_store()
>>> n = need(store, "ada@example.org", "help with ice hotplug", now=1_700_000_000)
>>> o = offer(store, "bob@example.org", "reviews of ice driver patches", capacity="4h/week",
...           now=1_700_000_000)
>>> [m["key"] for m in match(store, n)][:1]
['bob@example.org']
>>> commit(store, "bob@example.org", o, n, hours=3, now=1_700_000_100)
1.0
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import and_, func, select

from knotwork.errors import InputError
from knotwork.graph.view import GraphView, cached_view
from knotwork.model import LinkKind, Record
from knotwork.services.authority import authority
from knotwork.services.native import (
    AuthorisationError,
    actor_id,
    link,
    node,
    now_or,
    owner,
    state,
    write,
)
from knotwork.services.native_walk import walk_from
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.text import TextIndex

FloatArray = npt.NDArray[np.float64]

#: Share of each signal in a match's score.
MATCH_WEIGHTS: dict[str, float] = {
    "text": 0.4,
    "proximity": 0.3,
    "authority": 0.1,
    "capacity": 0.2,
}

#: Symmetric link weights of the proximity walk (knowledge and context, both ways).
PROXIMITY_WEIGHTS: dict[str, tuple[float, float]] = {
    k: (w, w)
    for k, w in {
        "authored": 1.0,
        "reviews": 1.0,
        "acks": 1.0,
        "tests": 0.25,
        "handles": 0.35,
        "changed": 0.5,
        "cites": 0.5,
        "replies": 0.5,
        "needs": 1.0,
        "offers": 1.0,
        "member_of": 0.5,
        "responds": 0.5,
        "affects": 1.0,
    }.items()
}


def committed(store: Store, offer_id: int) -> float:
    """Hours of ``offer_id`` committed to needs so far."""
    with store.connect() as connection:
        rows = connection.execute(
            select(schema.links.c.attrs).where(
                and_(schema.links.c.src == offer_id, schema.links.c.kind == "offers")
            )
        ).scalars()
        return float(sum(json.loads(r).get("hours", 0.0) for r in rows))


def remaining(store: Store, offer_id: int) -> float:
    """Hours per week of an offer not yet committed (0 once it is closed)."""
    found = node(store, offer_id)
    if found["kind"] != "offer" or state(store, offer_id) != "open":
        return 0.0
    return float(found["attrs"].get("capacity", 0.0)) - committed(store, offer_id)


def commit(
    store: Store,
    actor: str,
    offer_id: int,
    need_id: int,
    *,
    hours: float,
    now: int | None = None,
) -> float:
    """Commit ``hours`` of an offer to a need (by the offer's owner); return the hours left.

    Raises ``InputError`` when the offer has fewer hours left: capacity is never oversubscribed.
    """
    person, moment = actor_id(store, actor), now_or(now)
    if node(store, need_id)["kind"] != "need" or state(store, need_id) != "open":
        raise InputError("not an open need", place=str(need_id))
    if owner(store, offer_id) != person:
        raise AuthorisationError("only the owner of an offer may commit it", place=str(offer_id))
    if hours <= 0:
        raise InputError("hours must be positive", place=str(hours))
    left = remaining(store, offer_id)
    if hours > left + 1e-9:
        raise InputError(f"the offer has {left:g} hours left", place=str(offer_id))
    given = link(offer_id, need_id, LinkKind.OFFERS, moment, f"{hours}", hours=hours)
    write(store, Record("native", given.id, f"native:commit:{offer_id}", [], [given]))
    return left - hours


def open_items(store: Store, kind: str, now: int | None = None) -> list[dict[str, Any]]:
    """Open needs or offers (not fulfilled, withdrawn or past their end), newest first; those
    of people who opted out are left out."""
    from knotwork.store.erase import opted_out

    moment = now_or(now)
    hidden = opted_out(store)
    with store.connect() as connection:
        ids = connection.execute(
            select(schema.nodes.c.id).where(schema.nodes.c.kind == kind)
        ).scalars()
        found = [node(store, int(i)) for i in ids]
    result = []
    for item in found:
        until = item["attrs"].get("until")
        if state(store, item["id"]) == "open" and (until is None or until > moment):
            item["owner"] = owner(store, item["id"])
            if item["owner"] not in hidden:
                result.append(item)
    return sorted(result, key=lambda i: -(i["time"] or 0))


def _scaled(values: FloatArray) -> FloatArray:
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else np.zeros_like(values)


#: Kinds of the native nodes whose texts are indexed apart, so that a write does not rebuild
#: the index of the (large) ingested texts.
NATIVE_KINDS = ("post", "need", "offer", "decision")
_BASE: dict[str, tuple[tuple[int, int], TextIndex]] = {}

#: Stores with more ingested texts than this keep their text index on disk (under
#: ``$KNOTWORK_CACHE``, else ``$XDG_CACHE_HOME/knotwork``, else ``~/.cache/knotwork``), so
#: that a new process (a CLI call) loads it instead of indexing every text again.
DISK_TEXTS = 20_000


def _cache_dir() -> Path:
    root = os.environ.get("KNOTWORK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "knotwork"
    )
    return Path(root) / "text"


def _base_index(store: Store, mark: tuple[int, int]) -> TextIndex:
    """The index of the store's ingested texts, from disk when a copy for ``mark`` is there."""
    if mark[0] <= DISK_TEXTS or store.in_memory:
        return TextIndex.build(store)
    name = hashlib.sha256(f"{store.url}|{mark}".encode()).hexdigest()[:24]
    folder = _cache_dir() / name
    try:
        return TextIndex.load(folder)
    except (OSError, ValueError, KeyError):
        pass
    index = TextIndex.build(store)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=folder.parent))
        index.save(scratch)
        scratch.rename(folder)
    except OSError:
        pass  # another process saved it first, or no room: the index still serves
    return index


def _search(store: Store, query: str, limit: int) -> list[tuple[int, float]]:
    """BM25 hits over ingested texts (index kept per store, and on disk for a large store,
    rebuilt when their count or newest id changes) and over native texts (a small index built
    per call), merged best first."""
    nodes, texts = schema.nodes, schema.texts
    native = select(nodes.c.id).where(nodes.c.kind.in_(NATIVE_KINDS))
    with store.connect() as connection:
        count, newest = connection.execute(
            select(func.count(), func.max(texts.c.node)).where(texts.c.node.not_in(native))
        ).one()
        rows = connection.execute(
            select(texts.c.node, texts.c.text).where(texts.c.node.in_(native))
        ).all()
    key = f"{store.url}#{id(store.engine)}"
    mark = (int(count), int(newest or 0))
    cached = _BASE.get(key)
    if cached is None or cached[0] != mark:
        cached = (mark, _base_index(store, mark))
        _BASE[key] = cached
    fresh = TextIndex.from_documents([r[0] for r in rows], [r[1] for r in rows])
    hits = cached[1].search(query, limit) + fresh.search(query, limit)
    best: dict[int, float] = {}
    for node_id, score in hits:
        best[node_id] = max(score, best.get(node_id, 0.0))
    return sorted(best.items(), key=lambda h: -h[1])[:limit]


#: Share of new links after which :func:`match` recomputes authority for a view extended by
#: writes; below it, the previous view's vector serves (new nodes at 0). Authority is a global
#: PageRank that a few native items barely move, and it is a tenth of a match's score.
AUTHORITY_STALE = 0.01


def _authority(view: GraphView, store: Store) -> FloatArray:
    """Authority of every node of ``view`` for matching (see :data:`AUTHORITY_STALE`); a
    large store keeps the vector on disk next to its text index, so that the first match in a
    new process does not rank the whole graph again (the same staleness rule applies)."""
    key, counted = ("native-authority",), ("native-authority-links",)
    if key in view._cache:
        return np.asarray(view._cache[key])
    if view.previous is not None and key in view.previous[1]:
        links = view.previous[1].get(counted, 0)
        if view.n_links - links <= AUTHORITY_STALE * max(links, 1):
            vector = view.warm_start(key)
            assert vector is not None
            view._cache[counted] = links
            view._cache[key] = vector
            return vector
    saved = _saved_authority(store, view)
    if saved is not None:
        view._cache[counted], view._cache[key] = saved
        return saved[1]
    vector = np.asarray(authority(view, warm_key=store.url).vector, dtype=np.float64)
    view._cache[counted] = view.n_links
    view._cache[key] = vector
    _save_authority(store, view, vector)
    return vector


def _authority_file(store: Store, view: GraphView) -> Path | None:
    """Where the authority vector of a large, file-backed store is kept (else ``None``)."""
    if view.n_nodes <= DISK_TEXTS or store.in_memory:
        return None
    name = hashlib.sha256(f"{store.url}|{view.half_life_days}".encode()).hexdigest()[:24]
    return _cache_dir().parent / "authority" / f"{name}.npz"


def _saved_authority(store: Store, view: GraphView) -> tuple[int, FloatArray] | None:
    """(links it was computed on, vector re-indexed to ``view``) from disk, when it is there
    and at most :data:`AUTHORITY_STALE` of the links were added since (``None`` otherwise)."""
    path = _authority_file(store, view)
    if path is None or view.explicit:
        return None
    try:
        with np.load(path) as saved:
            ids, vector, links = saved["ids"], saved["vector"], int(saved["links"])
    except (OSError, ValueError, KeyError):
        return None
    if not 0 <= view.n_links - links <= AUTHORITY_STALE * max(links, 1):
        return None
    at = np.minimum(np.searchsorted(ids, view.ids), max(len(ids) - 1, 0))
    found = ids[at] == view.ids if len(ids) else np.zeros(view.n_nodes, dtype=bool)
    return links, np.where(found, vector[at], 0.0)


def _save_authority(store: Store, view: GraphView, vector: FloatArray) -> None:
    path = _authority_file(store, view)
    if path is None or view.explicit:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.npz")
        np.savez(scratch, ids=view.ids, vector=vector, links=np.int64(view.n_links))
        scratch.replace(path)
    except OSError:
        pass  # no room or no right: the vector still serves this process


def _context(store: Store, item: int) -> list[int]:
    with store.connect() as connection:
        rows = connection.execute(
            select(schema.links.c.src, schema.links.c.dst).where(
                (schema.links.c.src == item) | (schema.links.c.dst == item)
            )
        ).all()
    return sorted({int(a) for a, _ in rows} | {int(b) for _, b in rows} | {item})


def _authors(view: GraphView) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """(person, item) positions of authorship-like links of the view."""
    from knotwork.graph.view import LINK_KINDS, PARTICIPATION

    codes = [LINK_KINDS.index(k) for k in (*PARTICIPATION, "offers")]
    keep = np.isin(view.link_kind, codes) & view.people()[view.src]
    return view.src[keep], view.dst[keep]


def match(store: Store, need_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
    """People ranked for the need ``need_id``, with their open offers and the reasons."""
    found = node(store, need_id)
    if found["kind"] != "need":
        raise InputError("not a need", place=str(need_id))
    view = cached_view(store)
    asker = owner(store, need_id)
    n = view.n_nodes
    people = view.people()
    # text: BM25 over each person's items and offers
    hits = _search(store, found["text"] or found["name"], limit=500)
    item_score = np.zeros(n)
    if hits:
        wanted = np.array([h[0] for h in hits if h[0] != need_id], dtype=np.int64)
        scores = np.array([h[1] for h in hits if h[0] != need_id], dtype=np.float64)
        at = np.minimum(np.searchsorted(view.ids, wanted), max(n - 1, 0))
        inside = view.ids[at] == wanted if n else np.zeros(len(wanted), dtype=bool)
        item_score[at[inside]] = scores[inside]
    src, dst = _authors(view)
    text = np.bincount(src, weights=item_score[dst], minlength=n).astype(np.float64)
    # proximity: PPR from the need's context
    seeds = 0.5 * item_score / item_score.sum() if item_score.any() else np.zeros(n)
    context = [i for i in _context(store, need_id) if i != asker]
    for node_id in context:
        try:
            seeds[view.index_of(node_id)] += 0.4 / len(context)
        except KeyError:
            continue
    if asker is not None and asker in view.ids:
        seeds[view.index_of(asker)] += 0.1
    proximity = walk_from(view, "proximity", PROXIMITY_WEIGHTS, seeds, warm=("match", need_id))
    rank = _authority(view, store)
    offers = {o["owner"]: o for o in open_items(store, "offer")}
    capacity = np.zeros(n)
    for person, item in offers.items():
        try:
            capacity[view.index_of(int(person))] = remaining(store, item["id"])
        except (KeyError, TypeError):
            continue
    candidates = np.flatnonzero(people & ((text > 0) | (capacity > 0) | (proximity > 0)))
    if asker is not None:
        candidates = candidates[view.ids[candidates] != asker]
    parts = {
        "text": _scaled(text[candidates]),
        "proximity": _scaled(proximity[candidates]),
        "authority": _scaled(np.asarray(rank)[candidates]),
        "capacity": _scaled(capacity[candidates]),
    }
    total: FloatArray = np.zeros(len(candidates))
    for name, values in parts.items():
        total += MATCH_WEIGHTS[name] * values
    order = np.argsort(-np.asarray(total), kind="stable")[:limit]
    result = []
    for i in order.tolist():
        position = int(candidates[i])
        person = int(view.ids[position])
        offer = offers.get(person)
        reasons = [f"{k} {float(v[i]):.2f}" for k, v in parts.items() if float(v[i]) > 0]
        if offer is not None:
            reasons.append(f"offers {capacity[position]:g}h/week: {offer['name']}")
        result.append(
            {
                "person": person,
                "key": view.keys[position],
                "score": round(float(total[i]), 4),
                "parts": {k: round(float(v[i]), 4) for k, v in parts.items()},
                "offer": None if offer is None else offer["id"],
                "reasons": reasons,
            }
        )
    return result


def match_offer(store: Store, offer_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
    """Open needs ranked for an offer by the text relevance of the need to the offer."""
    found = node(store, offer_id)
    if found["kind"] != "offer":
        raise InputError("not an offer", place=str(offer_id))
    needs = open_items(store, "need")
    if not needs:
        return []
    index = TextIndex.from_documents([n["id"] for n in needs], [n["text"] for n in needs])
    scores = index.scores(found["text"])
    order = np.argsort(-scores, kind="stable")[:limit]
    return [
        {
            "need": needs[i]["id"],
            "name": needs[i]["name"],
            "owner": needs[i]["owner"],
            "score": round(float(scores[i]), 4),
            "reasons": [f"text {float(scores[i]):.2f}"],
        }
        for i in order.tolist()
        if scores[i] > 0
    ]


__all__ = [
    "MATCH_WEIGHTS",
    "PROXIMITY_WEIGHTS",
    "commit",
    "committed",
    "match",
    "match_offer",
    "open_items",
    "remaining",
]
