"""A person's own metrics, shown to that person only (``knotwork me --as ALIAS``).

The view is made of *sections*: each is a function of a :class:`MeContext` that returns a
dict, registered with :func:`section`. This module registers the network sections (authority
rank, ties, core number, group, brokerage, truck-factor areas); other services (the market and
decisions) add theirs the same way.

>>> from knotwork.graph.sample import sample_store
>>> mine = me(sample_store(), "ada@example.org")
>>> mine["person"]["key"], mine["network"]["ties"], mine["authority"]["rank"]
('ada@example.org', 1, 2)
>>> mine["knowledge"]["areas"]
['drivers']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from knotwork.errors import NotFoundError
from knotwork.graph.view import DEFAULT_HALF_LIFE_DAYS, GraphView, cached_view
from knotwork.services.authority import authority, describe
from knotwork.services.health import Structure, structure
from knotwork.services.health_base import constraint
from knotwork.services.health_truck import author_areas
from knotwork.store.engine import Store
from knotwork.store.identity import resolve


@dataclass
class MeContext:
    """What sections read: the store, the view, the person's id and (lazily) the structure."""

    store: Store
    view: GraphView
    person: int
    k_min: int

    @property
    def shared(self) -> Structure:
        """The people graph and its analysis (memoised on the view)."""
        return structure(self.view)

    @property
    def index(self) -> int:
        """The person's row in the people graph; -1 when they have no place in it."""
        positions = self.shared.graph.ids
        at = int(np.searchsorted(positions, self.person))
        return at if at < len(positions) and int(positions[at]) == self.person else -1


Section = Callable[[MeContext], dict[str, Any]]
SECTIONS: dict[str, Section] = {}


def section(name: str) -> Callable[[Section], Section]:
    """Register a section of ``knotwork me`` under ``name`` (later ones replace earlier)."""

    def register(function: Section) -> Section:
        SECTIONS[name] = function
        return function

    return register


@section("authority")
def _authority(context: MeContext) -> dict[str, Any]:
    view = context.view
    vector = authority(view).vector
    people = np.flatnonzero(view.people())
    position = view.index_of(context.person)
    score = float(vector[position])
    rank = int((vector[people] > score).sum()) + 1
    return {"score": score, "rank": rank, "of": len(people)}


@section("network")
def _network(context: MeContext) -> dict[str, Any]:
    shared, at = context.shared, context.index
    if at < 0:
        return {"ties": 0, "core": 0, "group": None}
    group = int(shared.groups[at])
    size = int((shared.groups == group).sum())
    burt = constraint(shared.graph)[at]
    between = shared.betweenness
    return {
        "ties": int(shared.graph.degree()[at]),
        "core": int(shared.cores[at]),
        "max_core": int(shared.cores.max()) if shared.graph.n else 0,
        "group": group,
        "group_size": size if size >= context.k_min else None,
        "betweenness": round(float(between[at]), 3),
        "betweenness_rank": int((between > between[at]).sum()) + 1,
        "constraint": None if np.isnan(burt) else round(float(burt), 4),
        "groups_bridged": len(
            {
                int(g)
                for g in shared.groups[
                    shared.graph.adjacency.indices[
                        shared.graph.adjacency.indptr[at] : shared.graph.adjacency.indptr[at + 1]
                    ]
                ].tolist()
            }
            - {group}
        ),
    }


@section("knowledge")
def _knowledge(context: MeContext) -> dict[str, Any]:
    return {"areas": author_areas(context.view, context.person)}


def me(
    store: Store,
    alias: str,
    *,
    as_of: int | None = None,
    k_min: int = 5,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> dict[str, Any]:
    """The metrics of the person known by ``alias`` (see :func:`knotwork.store.identity.resolve`),
    one entry per registered section, plus ``person`` (id, key, name)."""
    person = resolve(store, alias)
    view = cached_view(store, as_of=as_of, half_life_days=half_life_days)
    try:
        view.index_of(person)
    except KeyError:
        raise NotFoundError("this person has no activity in the graph", place=alias) from None
    context = MeContext(store, view, person, k_min)
    about = describe(store, [person]).get(person, {})
    result: dict[str, Any] = {
        "person": {"id": person, "key": about.get("key"), "name": about.get("name")},
        "as_of": view.as_of,
    }
    for name, function in SECTIONS.items():
        result[name] = function(context)
    return result


__all__ = ["SECTIONS", "MeContext", "Section", "me", "section"]

from knotwork.services import questions as _questions  # noqa: E402, F401  (its section)
