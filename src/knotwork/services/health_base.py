"""What the health metrics share: the :class:`Metric` record, the people graph, igraph calls.

The **people graph** of a view is symmetric and weighted: two people are tied by how much they
took part in the same items (:meth:`GraphView.person_person`) plus the direct links between
them (a reply, a citation, a mention; not ``member_of`` or ``reports_to``, which are the formal
organisation, not work).

>>> from knotwork.graph.sample import sample_store
>>> from knotwork.graph.view import GraphView
>>> graph = people_graph(GraphView.build(sample_store()))
>>> graph.n, int(graph.adjacency.nnz)
(2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import igraph as ig
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knotwork.graph import centrality, communities
from knotwork.graph.view import LINK_KINDS, PARTICIPATION, GraphView
from knotwork.model import LinkKind

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Link kinds that are the formal organisation, not work.
FORMAL: tuple[str, ...] = (LinkKind.MEMBER_OF.value, LinkKind.REPORTS_TO.value)


@dataclass
class Metric:
    """One health figure: ``value`` (None when suppressed), its plain-language ``explanation``,
    its ``reference``, optional ``details`` and the privacy ``note`` when something was withheld.
    """

    name: str
    value: Any
    explanation: str
    reference: str
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "value": self.value,
            "explanation": self.explanation,
            "reference": self.reference,
            "details": self.details,
            "note": self.note or None,
        }


@dataclass
class PeopleGraph:
    """The people of a view (``positions`` in the view, ``ids``) and their symmetric ties."""

    positions: IntArray
    ids: IntArray
    adjacency: sp.csr_matrix
    _built: tuple[ig.Graph, FloatArray] | None = field(default=None, repr=False, compare=False)
    _constraint: FloatArray | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        """How many people."""
        return len(self.positions)

    def igraph(self) -> tuple[ig.Graph, FloatArray]:
        """The igraph graph of the ties and their weights, built once and shared by every
        metric (building it costs about as much as a sampled betweenness)."""
        if self._built is None:
            self._built = communities.to_igraph(self.adjacency)
        return self._built

    def degree(self) -> IntArray:
        """Number of distinct people each person is tied to."""
        indptr: IntArray = np.asarray(self.adjacency.indptr, dtype=np.int64)
        return np.diff(indptr)


def people_graph(view: GraphView, kinds: tuple[str, ...] | None = None) -> PeopleGraph:
    """The people graph of ``view`` (see the module docstring); bots left out.

    ``kinds`` keeps only these link kinds (direct, and shared items through participation
    kinds among them), e.g. ``("cites",)`` for advice ties read from a table.
    """

    def make() -> PeopleGraph:
        people = np.flatnonzero(view.people())
        if kinds is None:
            shared = view.person_person()
            direct_kinds = [i for i, k in enumerate(LINK_KINDS) if k not in FORMAL]
        else:
            chosen = {k: 1.0 for k in kinds if k in PARTICIPATION}
            n_all = view.n_nodes
            shared = view.person_person(chosen) if chosen else sp.csr_matrix((n_all, n_all))
            direct_kinds = [LINK_KINDS.index(k) for k in kinds]
        is_person = view.people()
        keep = is_person[view.src] & is_person[view.dst] & np.isin(view.link_kind, direct_kinds)
        keep &= view.src != view.dst
        n = view.n_nodes
        direct = sp.csr_matrix((view.weight[keep], (view.src[keep], view.dst[keep])), shape=(n, n))
        total = (shared + direct + direct.T).tocsr()
        total = total[people][:, people].tocsr()
        total.setdiag(0)
        total.eliminate_zeros()
        total.sum_duplicates()
        return PeopleGraph(people.astype(np.int64), view.ids[people], total)

    result: PeopleGraph = view.memo(("health-people-graph", kinds), make)
    return result


def leiden(graph: PeopleGraph, *, resolution: float = 1.0, seed: int = 0) -> tuple[IntArray, float]:
    """Emergent groups of the people graph (Leiden, modularity) and the modularity reached."""
    if graph.adjacency.nnz == 0:
        return np.arange(graph.n, dtype=np.int64), 0.0
    labels, quality = communities.leiden(
        graph.adjacency, resolution=resolution, seed=seed, built=graph.igraph()
    )
    return np.asarray(labels, dtype=np.int64), float(quality)


def core_numbers(graph: PeopleGraph) -> IntArray:
    """The k-core number of each person (0 for isolated people)."""
    return centrality.core_number(graph.adjacency, built=graph.igraph())


def betweenness(graph: PeopleGraph, *, samples: int | None = None, seed: int = 0) -> FloatArray:
    """Betweenness of each person (hops), estimated from ``samples`` sources when given
    (Brandes and Pich 2007)."""
    if graph.n == 0:
        return np.zeros(0)
    return centrality.betweenness(graph.adjacency, samples=samples, seed=seed, built=graph.igraph())


def constraint(graph: PeopleGraph) -> FloatArray:
    """Burt's constraint of each person (NaN for isolated people), memoised on ``graph``."""
    if graph.n == 0:
        return np.zeros(0)
    if graph._constraint is None:
        graph._constraint = centrality.constraint(graph.adjacency, built=graph.igraph())
    return graph._constraint


__all__ = [
    "FORMAL",
    "Metric",
    "PeopleGraph",
    "betweenness",
    "constraint",
    "core_numbers",
    "leiden",
    "people_graph",
]
