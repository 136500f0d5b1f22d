"""Team formation: who could together take on a purpose, and stay close enough to work together.

A purpose (free text, paths, or both, as for who-knows) becomes **relevant items**: the items
and files where a personalized PageRank from the purpose's seeds leaves most mass
(:class:`knotwork.services.expertise.ExpertiseIndex`), each weighted by that mass. A person
**covers** an item they took part in. Files are not items of their own here when there are
items that changed them (commits): covering the commits covers the files.

The team is chosen greedily, after Lappas, Liu and Terzi (2009, "Finding a team of experts in
social networks"): at each step the candidate with the best
``preference * gain / best_gain - cost_per_hop * (hops - 1)`` joins, where ``gain`` is the
relevance they cover that the team does not cover yet, ``hops`` their distance to the nearest
member in the people graph (:func:`knotwork.services.groups.projection`; people out of reach
count ``max_hops``), and ``preference`` discounts people inactive for long (as who-knows does)
and favours people who declared capacity (an ``offers`` link, or the ``capacity`` mapping).
Every member comes with the reason: what they cover and how close they are to the others.

>>> from knotwork.graph.sample import sample_store
>>> proposal = team(sample_store(), "drivers/net/ice/", size=2)
>>> [m.key for m in proposal.members], proposal.coverage
(['bob@example.org', 'ada@example.org'], 1.0)
>>> proposal.members[1].hops
1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from knotwork.errors import InputError
from knotwork.graph.view import DAY, LINK_KINDS, GraphView, cached_view
from knotwork.model import NodeKind
from knotwork.services.authority import describe
from knotwork.services.expertise import (
    DEFAULT_SETTINGS,
    EXPERTISE_HALF_LIFE_DAYS,
    ExpertiseIndex,
    ExpertiseSettings,
)
from knotwork.services.groups import projection
from knotwork.store.engine import Store

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Member:
    """One proposed member: what they add (``covers``: item keys or names, ``paths``), their
    ``gain`` (share of the purpose's relevance they added), ``hops`` to the nearest member
    when they joined (0 for the first), ``preference`` (activity and capacity factor)."""

    id: int
    key: str
    name: str
    gain: float
    hops: int
    preference: float
    inactive: bool
    capacity: bool
    covers: list[str]
    paths: list[str]


@dataclass(frozen=True)
class Team:
    """A proposed team: ``coverage`` is the share of relevance the team covers; ``connected``
    whether its members reach each other in the people graph, ``mean_hops`` / ``max_hops``
    between pairs of members (``None`` when not connected)."""

    purpose: str
    as_of: int
    terms: list[dict[str, Any]]
    members: list[Member]
    coverage: float
    connected: bool
    mean_hops: float | None
    max_hops: int | None
    relevant_items: int

    def to_dict(self) -> dict[str, Any]:
        """The team as plain data (for ``--json``)."""
        return asdict(self)


def _coverage(index: ExpertiseIndex, people: IntArray, items: IntArray) -> sp.csr_matrix:
    """People x relevant items: 1 where the person took part in the item."""
    return sp.csr_matrix((index.adjacency[people][:, items] > 0).astype(np.float64))


def _files_of(view: GraphView, items: list[int]) -> list[str]:
    """The paths that ``items`` changed (or the items themselves when they are files), in
    order of first appearance."""
    changed = view.link_kind == LINK_KINDS.index("changed")
    paths: dict[str, None] = {}
    for item in items:
        if view.mask(NodeKind.FILE)[item]:
            paths[view.keys[item]] = None
            continue
        for f in view.dst[changed & (view.src == item)].tolist():
            paths[view.keys[f]] = None
    return list(paths)


def _preference(
    view: GraphView, people: IntArray, settings: ExpertiseSettings, capacity: Mapping[int, float]
) -> tuple[FloatArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    gap = view.as_of - view.last_active[people]
    late = np.maximum(gap - settings.inactive_after_days * DAY, 0)
    activity = np.where(view.last_active[people] < 0, 0.5, np.exp2(-late / (365.0 * DAY)))
    inactive = (view.last_active[people] < 0) | (late > 0)
    offers = view.link_kind == LINK_KINDS.index("offers")
    offering = np.isin(people, view.src[offers])
    factor = np.array([capacity.get(int(view.ids[p]), 1.0) for p in people.tolist()])
    declared = offering | (factor > 1.0)
    factor = np.where(offering, np.maximum(factor, 1.25), factor)
    return activity * factor, inactive, declared


def team(
    store: Store,
    purpose: str,
    *,
    size: int = 4,
    as_of: int | None = None,
    cost_per_hop: float = 0.25,
    max_hops: int = 6,
    items: int = 1000,
    candidates: int = 200,
    capacity: Mapping[int, float] | None = None,
    settings: ExpertiseSettings | None = None,
) -> Team:
    """Propose ``size`` people for ``purpose`` (see the module docstring).

    ``items`` bounds the relevant items, ``candidates`` the people considered (the best by
    who-knows score); ``capacity`` maps person ids to a preference factor (> 1: has time).
    """
    if not purpose.strip():
        raise InputError("the purpose is empty", place="purpose")
    if size < 1:
        raise InputError(f"size must be at least 1, got {size}", place="size")
    chosen = settings or DEFAULT_SETTINGS
    view = cached_view(store, as_of=as_of, half_life_days=EXPERTISE_HALF_LIFE_DAYS)
    index = ExpertiseIndex.of(view, chosen)
    seeds, terms = index.seeds(store, purpose)
    if seeds.sum() <= 0:
        raise InputError(f"nothing matches {purpose!r}", place="purpose")
    mass, score = index.rank(seeds)
    things = np.flatnonzero(~view.mask(NodeKind.PERSON, NodeKind.FILE) & (mass > 0))
    if not len(things):  # a graph of files and people only: the files are the items
        things = np.flatnonzero(~view.mask(NodeKind.PERSON) & (mass > 0))
    relevant = things[np.argsort(-mass[things], kind="stable")][:items]
    relevance = mass[relevant] / mass[relevant].sum()
    pool = np.flatnonzero(score > 0)
    pool = pool[np.argsort(-score[pool], kind="stable")][:candidates]
    cover = _coverage(index, pool, relevant)
    preference, inactive, declared = _preference(view, pool, chosen, capacity or {})
    people = projection(view)
    row_of = {int(p): r for r, p in enumerate(people.positions.tolist())}
    hops = np.full(len(pool), float(max_hops))
    covered = np.zeros(len(relevant))
    picked: list[int] = []
    added: list[tuple[int, float, int, IntArray]] = []
    for _ in range(min(size, len(pool))):
        gain = cover @ (relevance * (1 - covered))
        best = gain.max() if len(gain) else 0.0
        value = preference * (gain / best if best > 0 else 0.0)
        value -= cost_per_hop * (hops - 1) if picked else 0.0
        value[picked] = -np.inf
        value += 1e-9 * score[pool] / max(float(score[pool].max()), 1e-300)
        choice = int(np.argmax(value))
        new = np.flatnonzero(cover[choice].toarray().ravel() * (1 - covered) > 0)
        added.append((choice, float(gain[choice]), int(hops[choice]) if picked else 0, new))
        covered = np.maximum(covered, cover[choice].toarray().ravel())
        picked.append(choice)
        reach = _hops(people.adjacency, row_of.get(int(pool[choice])), pool, row_of, max_hops)
        hops = np.minimum(hops, reach)
    info = describe(store, [int(view.ids[pool[c]]) for c, *_ in added])
    members = []
    for choice, gain, distance, new in added:
        position = int(pool[choice])
        node = info.get(int(view.ids[position]), {})
        best_new = [int(relevant[i]) for i in new[np.argsort(-relevance[new], kind="stable")]]
        names = describe(store, [int(view.ids[i]) for i in best_new[:3]])
        members.append(
            Member(
                id=int(view.ids[position]),
                key=str(node.get("key", view.keys[position])),
                name=str(node.get("name", "")),
                gain=round(gain, 4),
                hops=distance,
                preference=round(float(preference[choice]), 3),
                inactive=bool(inactive[choice]),
                capacity=bool(declared[choice]),
                covers=[
                    str(names.get(int(view.ids[i]), {}).get("name") or view.keys[i])
                    for i in best_new[:3]
                ],
                paths=_files_of(view, best_new[:20])[:3],
            )
        )
    connected, mean_hops, longest = _connectivity(
        people.adjacency, [int(pool[c]) for c in picked], row_of
    )
    return Team(
        purpose=purpose,
        as_of=view.as_of,
        terms=terms,
        members=members,
        coverage=round(float((relevance * covered).sum()), 4),
        connected=connected,
        mean_hops=mean_hops,
        max_hops=longest,
        relevant_items=len(relevant),
    )


def _hops(
    adjacency: sp.csr_matrix,
    source: int | None,
    pool: IntArray,
    row_of: Mapping[int, int],
    max_hops: int,
) -> FloatArray:
    """Hops from ``source`` (a row of the people graph) to each candidate (``max_hops`` when
    out of reach or not in the graph)."""
    if source is None:
        return np.full(len(pool), float(max_hops))
    distance = shortest_path(adjacency, unweighted=True, directed=False, indices=source)
    rows = np.array([row_of.get(int(p), -1) for p in pool.tolist()])
    found = np.where(rows >= 0, distance[np.maximum(rows, 0)], np.inf)
    return np.minimum(found, float(max_hops))


def _connectivity(
    adjacency: sp.csr_matrix, members: list[int], row_of: Mapping[int, int]
) -> tuple[bool, float | None, int | None]:
    """Whether the members reach each other, the mean and the longest hops between pairs."""
    rows = [row_of[m] for m in members if m in row_of]
    if len(members) < 2:
        return True, 0.0, 0
    if len(rows) < len(members):
        return False, None, None
    distance = shortest_path(adjacency, unweighted=True, directed=False, indices=rows)[:, rows]
    pairs = distance[np.triu_indices(len(rows), k=1)]
    if not np.isfinite(pairs).all():
        return False, None, None
    return True, round(float(pairs.mean()), 3), int(pairs.max())


__all__ = ["Member", "Team", "team"]
