"""Network health: every metric of the people graph, each with a plain-language explanation.

:func:`health` computes, from one :class:`~knotwork.graph.view.GraphView`: inequality of
authority and of ties (Gini, Lorenz curve), the periphery, brokers, silos, walls vs work (with
an org chart), relay depth, the truck factor and growth. Every aggregate goes through
:mod:`knotwork.services.privacy`: figures about fewer than ``k_min`` people are suppressed.
See ``docs/health.md`` for each metric in one sentence and its reference.

>>> from knotwork.graph.sample import sample_store
>>> report = health(sample_store(), k_min=3)
>>> [m.name for m in report.metrics][:3]
['authority_inequality', 'degree_inequality', 'periphery']
>>> report.metric("truck_factor").value
1
>>> report.metric("periphery").note
'suppressed: describes 2 people, fewer than k_min = 3'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from knotwork.graph.view import DEFAULT_HALF_LIFE_DAYS, GraphView, cached_view
from knotwork.services.authority import authority
from knotwork.services.health_base import (
    IntArray,
    Metric,
    PeopleGraph,
    betweenness,
    core_numbers,
    leiden,
    people_graph,
)
from knotwork.services.health_growth import growth_metric
from knotwork.services.health_inequality import inequality, periphery
from knotwork.services.health_structure import brokers, relay_depth, silos, walls_vs_work
from knotwork.services.health_truck import truck_metric
from knotwork.services.privacy import DEFAULT_K_MIN, Ledger, check_k_min
from knotwork.store.engine import Store

#: Above this many people, betweenness is estimated from a sample of source people.
EXACT_BETWEENNESS_UP_TO = 2_000
BETWEENNESS_SAMPLES = 64


@dataclass
class Structure:
    """What several metrics (and ``knotwork me``) share: the people graph and its analysis."""

    view: GraphView
    graph: PeopleGraph
    groups: IntArray
    modularity: float
    cores: IntArray
    betweenness: np.ndarray[Any, np.dtype[np.float64]]
    samples: int | None


def groups_of(view: GraphView, *, seed: int = 0) -> tuple[PeopleGraph, IntArray, float]:
    """The people graph of ``view``, its Leiden groups and their modularity (memoised: Leiden
    runs once per view and seed, whoever asks)."""
    graph = people_graph(view)
    found: tuple[IntArray, float] = view.memo(
        ("health-groups", seed), lambda: leiden(graph, seed=seed)
    )
    return graph, found[0], found[1]


def structure(view: GraphView, *, seed: int = 0, samples: int | None = None) -> Structure:
    """The people graph of ``view``, its groups, core numbers and betweenness (memoised).

    Each part is memoised on the view by what it depends on, so that Leiden and the core
    numbers run once however many callers ask (``health``, the report, ``me``), and the
    default ``samples`` shares its betweenness with an explicit request for the same count.
    """
    graph = people_graph(view)
    chosen = samples
    if chosen is None and graph.n > EXACT_BETWEENNESS_UP_TO:
        chosen = BETWEENNESS_SAMPLES

    def make() -> Structure:
        _, groups, quality = groups_of(view, seed=seed)
        cores = view.memo(("health-cores",), lambda: core_numbers(graph))
        between = view.memo(
            ("health-betweenness", seed, chosen),
            lambda: betweenness(graph, samples=chosen, seed=seed),
        )
        return Structure(view, graph, groups, quality, cores, between, chosen)

    result: Structure = view.memo(("health-structure", seed, chosen), make)
    return result


@dataclass
class HealthReport:
    """All health metrics of the graph as it stood at ``as_of``."""

    as_of: int
    k_min: int
    people: int
    metrics: list[Metric] = field(default_factory=list)
    #: Why every figure is withheld ("" when shown): a :class:`Ledger` found that the people
    #: they describe would differ from an earlier report's by fewer than ``k_min``.
    note: str = ""

    def metric(self, name: str) -> Metric:
        """The metric called ``name``; ``KeyError`` when there is none."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no people count and no metrics when withheld)."""
        return {
            "as_of": self.as_of,
            "k_min": self.k_min,
            "people": None if self.note else self.people,
            "metrics": [] if self.note else [m.to_dict() for m in self.metrics],
            "note": self.note or None,
        }


def health_of_view(
    view: GraphView,
    *,
    k_min: int = DEFAULT_K_MIN,
    samples: int | None = None,
    seed: int = 0,
    period_days: float | None = None,
) -> HealthReport:
    """Every health metric of ``view`` (see :func:`health`)."""
    check_k_min(k_min)
    shared = structure(view, seed=seed, samples=samples)
    graph = shared.graph
    rank = authority(view)
    names = [view.keys[p] for p in graph.positions.tolist()]
    metrics = [
        inequality("authority_inequality", rank.vector[graph.positions], k_min),
        inequality("degree_inequality", graph.degree().astype(np.float64), k_min),
        periphery(graph, k_min, cores=shared.cores),
        brokers(
            graph,
            shared.groups,
            names,
            samples=shared.samples,
            seed=seed,
            scores=shared.betweenness,
        ),
        silos(graph, shared.groups, shared.modularity, k_min),
        walls_vs_work(view, graph, shared.groups, k_min),
        relay_depth(view, k_min),
        truck_metric(view, k_min),
        growth_metric(view, k_min, period_days=period_days),
    ]
    return HealthReport(as_of=view.as_of, k_min=k_min, people=graph.n, metrics=metrics)


def health(
    store: Store,
    *,
    as_of: int | None = None,
    k_min: int = DEFAULT_K_MIN,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    samples: int | None = None,
    seed: int = 0,
    ledger: Ledger | None = None,
) -> HealthReport:
    """Every health metric of ``store`` as it stood at ``as_of`` (default: now).

    ``samples``: source people for the betweenness estimate (default: exact up to
    :data:`EXACT_BETWEENNESS_UP_TO` people, then :data:`BETWEENNESS_SAMPLES`). ``ledger``:
    the people of earlier reports; when this report's people differ from one of them by
    fewer than ``k_min``, every figure is withheld with a note.
    """
    check_k_min(k_min)
    view = cached_view(store, as_of=as_of, half_life_days=half_life_days)
    report = health_of_view(view, k_min=k_min, samples=samples, seed=seed)
    if ledger is not None:
        report.note = ledger.release(people_graph(view).ids.tolist(), None).note
    return report


__all__ = [
    "BETWEENNESS_SAMPLES",
    "EXACT_BETWEENNESS_UP_TO",
    "HealthReport",
    "Metric",
    "Structure",
    "groups_of",
    "health",
    "health_of_view",
    "structure",
]
