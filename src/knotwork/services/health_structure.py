"""Structure of the people graph: brokers, silos (E-I index), walls vs work, relay depth.

>>> ei_index([0, 0, 1, 1], [(0, 1), (2, 3), (1, 2)])
(-0.3333333333333333, {0: 0.0, 1: 0.0})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from knotwork.graph.view import LINK_KINDS, GraphView
from knotwork.model import LinkKind, NodeKind
from knotwork.services.health_base import (
    IntArray,
    Metric,
    PeopleGraph,
    betweenness,
    constraint,
)
from knotwork.services.privacy import Ledger, release_count

BROKER_REFERENCE = (
    "Freeman (1977) and Brandes and Pich (2007), sampled betweenness; Burt (1992), "
    "Structural Holes, constraint"
)
SILO_REFERENCE = (
    "Krackhardt and Stern (1988), the E-I index; Newman (2006), modularity; "
    "Traag, Waltman and van Eck (2019), Leiden"
)
WALLS_REFERENCE = (
    "Krackhardt and Hanson (1993), Informal networks: the company behind the chart; "
    "Vinh, Epps and Bailey (2010), NMI; Hubert and Arabie (1985), ARI"
)
RELAY_REFERENCE = "Cross and Parker (2004), The Hidden Power of Social Networks"
#: Longest chain followed; items still deepening after this many rounds are on a cycle.
RELAY_ROUNDS = 64


def _pairs(graph: PeopleGraph) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
    upper = sp.triu(graph.adjacency, k=1).tocoo()
    return upper.row.astype(np.int64), upper.col.astype(np.int64), upper.data


def ei_index(
    labels: Sequence[int] | IntArray, ties: Sequence[tuple[int, int]] | npt.NDArray[np.int64]
) -> tuple[float, dict[int, float]]:
    """Krackhardt and Stern's E-I index, overall and per group: ``(E - I) / (E + I)`` with
    ``E`` the ties leaving a group and ``I`` the ties inside it (-1 closed silo, +1 all outward).

    A tie between two groups counts as external for both.
    """
    label = np.asarray(labels)
    tie = np.asarray(ties, dtype=np.int64).reshape(-1, 2)
    a, b = label[tie[:, 0]], label[tie[:, 1]]
    inside = a == b
    overall_e, overall_i = int((~inside).sum()), int(inside.sum())
    overall = (overall_e - overall_i) / (overall_e + overall_i) if len(tie) else 0.0
    internal = Counter(a[inside].tolist())
    external = Counter(a[~inside].tolist()) + Counter(b[~inside].tolist())
    per_group: dict[int, float] = {}
    for group in sorted(set(label.tolist())):
        e, i = external.get(group, 0), internal.get(group, 0)
        if e + i:
            per_group[int(group)] = (e - i) / (e + i)
    return float(overall), per_group


def silos(graph: PeopleGraph, groups: IntArray, modularity: float, k_min: int) -> Metric:
    """E-I index per emergent group (groups under ``k_min`` people suppressed) and overall."""
    rows, cols, _ = _pairs(graph)
    overall, per_group = ei_index(groups, np.column_stack([rows, cols]))
    sizes = Counter(groups.tolist())
    shown = []
    hidden = 0
    for group, value in sorted(per_group.items(), key=lambda kv: (-sizes[kv[0]], kv[0])):
        if sizes[group] < k_min:
            hidden += 1
            continue
        shown.append({"group": group, "people": sizes[group], "ei": round(value, 4)})
    released = release_count(graph.n, overall, k_min=k_min)
    return Metric(
        name="silos",
        value=None if released.value is None else round(overall, 4),
        explanation=(
            "Whether groups keep to themselves: the E-I index is -1 when all of a group's ties "
            "stay inside it (a silo) and +1 when all go outside; modularity "
            f"({modularity:.2f}) says how sharply the network splits into groups (above 0.3 "
            "is clearly split)."
        ),
        reference=SILO_REFERENCE,
        details={"modularity": round(modularity, 4), "groups": shown[:50]},
        note=f"{hidden} group(s) under k_min = {k_min} people suppressed" if hidden else "",
    )


def brokers(
    graph: PeopleGraph,
    groups: IntArray,
    names: Sequence[str],
    *,
    samples: int | None = None,
    seed: int = 0,
    limit: int = 10,
    scores: npt.NDArray[np.float64] | None = None,
) -> Metric:
    """The people with the highest (sampled) betweenness, their constraint and the groups
    their ties reach."""
    between = betweenness(graph, samples=samples, seed=seed) if scores is None else scores
    burt = constraint(graph)
    order = np.argsort(-between, kind="stable")[:limit]
    listed: list[dict[str, Any]] = []
    adjacency = graph.adjacency
    for position in order.tolist():
        if between[position] <= 0:
            break
        neighbours = adjacency.indices[adjacency.indptr[position] : adjacency.indptr[position + 1]]
        reached = sorted({int(g) for g in groups[neighbours].tolist()} - {int(groups[position])})
        listed.append(
            {
                "person": names[position],
                "betweenness": round(float(between[position]), 2),
                "constraint": None if np.isnan(burt[position]) else round(float(burt[position]), 4),
                "group": int(groups[position]),
                "bridges": reached[:10],
            }
        )
    total = float(between.sum())
    carried = float(between[order].sum() / total) if total > 0 else 0.0
    finite = burt[~np.isnan(burt)]
    median = float(np.median(finite)) if len(finite) else float("nan")
    return Metric(
        name="brokers",
        value=round(carried, 4),
        explanation=(
            f"Share of all brokerage carried by the {len(order)} people through whom most short "
            "paths between others pass: they connect groups that would otherwise not hear from "
            "each other; low constraint means a person's contacts do not know each other "
            f"(median constraint {median:.2f})."
        ),
        reference=BROKER_REFERENCE,
        details={
            "samples": samples,
            "median_constraint": None if np.isnan(median) else round(median, 4),
            "top": listed,
        },
    )


def units_of(view: GraphView, graph: PeopleGraph) -> tuple[IntArray, list[str]]:
    """The formal unit of each person of ``graph`` (index into the returned unit keys; -1 none).

    A person in several units is placed in the one with the heaviest ``member_of`` link.
    """
    member = LINK_KINDS.index(LinkKind.MEMBER_OF.value)
    org = view.mask(NodeKind.ORG)
    chosen = (view.link_kind == member) & org[view.dst]
    src, dst, weight = view.src[chosen], view.dst[chosen], view.weight[chosen]
    order = np.lexsort((-weight, src))
    best: dict[int, int] = {}
    for s, d in zip(src[order].tolist(), dst[order].tolist(), strict=True):
        best.setdefault(s, d)
    unit_nodes = sorted(set(best.values()))
    code = {node: i for i, node in enumerate(unit_nodes)}
    units = np.array([code.get(best.get(p, -1), -1) for p in graph.positions.tolist()], np.int64)
    return units, [view.keys[u] for u in unit_nodes]


def walls_vs_work(view: GraphView, graph: PeopleGraph, groups: IntArray, k_min: int) -> Metric:
    """How much work crosses formal units, agreement of units and emergent groups, and the
    people whose work lives mostly outside their unit (``member_of`` links to ``org`` nodes)."""
    units, unit_keys = units_of(view, graph)
    placed = units >= 0
    ledger = Ledger(k_min=k_min)
    if placed.sum() == 0:
        return Metric(
            "walls_vs_work",
            None,
            "Needs an org chart (people linked to formal units); none is loaded.",
            WALLS_REFERENCE,
            note="no org chart in the store",
        )
    rows, cols, weight = _pairs(graph)
    both = placed[rows] & placed[cols]
    r, c, w = rows[both], cols[both], weight[both]
    crossing = units[r] != units[c]
    reporting = LINK_KINDS.index(LinkKind.REPORTS_TO.value)
    position = np.full(view.n_nodes, -1, np.int64)
    position[graph.positions] = np.arange(graph.n)
    line = view.link_kind == reporting
    a, b = position[view.src[line]], position[view.dst[line]]
    ok = (a >= 0) & (b >= 0)
    span = max(graph.n, 1)
    lines = np.unique(np.minimum(a[ok], b[ok]) * span + np.maximum(a[ok], b[ok]))
    along = int(np.isin(r * span + c, lines).sum())  # r < c: ties are the upper triangle
    ties = len(r)
    people = np.flatnonzero(placed)
    share = float(crossing.mean()) if ties else 0.0
    figures = ledger.release(people.tolist(), share)
    outside = np.zeros(graph.n)
    total = np.zeros(graph.n)
    np.add.at(total, r, w)
    np.add.at(total, c, w)
    np.add.at(outside, r[crossing], w[crossing])
    np.add.at(outside, c[crossing], w[crossing])
    mostly = np.flatnonzero(placed & (total > 0) & (outside > 0.5 * np.maximum(total, 1e-300)))
    names = [view.keys[p] for p in graph.positions[mostly].tolist()]
    listing = release_count(len(names), sorted(names), k_min=k_min)
    nmi = ari = None
    if placed.sum() >= k_min:
        nmi = round(float(normalized_mutual_info_score(units[placed], groups[placed])), 4)
        ari = round(float(adjusted_rand_score(units[placed], groups[placed])), 4)
    sizes = Counter(units[placed].tolist())
    big = [u for u in sorted(sizes) if sizes[u] >= k_min]
    code = np.full(len(unit_keys) + 1, -1, dtype=np.int64)  # units are >= 0 here
    code[np.asarray(big, dtype=np.int64)] = np.arange(len(big))
    ix, iy = code[units[r]], code[units[c]]
    counted = (ix >= 0) & (iy >= 0)
    ix, iy = ix[counted], iy[counted]
    matrix = np.zeros((len(big), len(big)), dtype=np.int64)
    np.add.at(matrix, (ix, iy), 1)
    np.add.at(matrix, (iy[ix != iy], ix[ix != iy]), 1)
    small = len(sizes) - len(big)
    return Metric(
        name="walls_vs_work",
        value=None if figures.value is None else round(share, 4),
        explanation=(
            f"Share of working ties that cross formal units ({share:.0%}); "
            f"{along} of {ties} ties follow a reporting line; agreement between the org chart "
            "and the groups people actually form (NMI and ARI: 1 identical, 0 unrelated)."
        )
        if figures.value is not None
        else "Share of working ties that cross formal units (suppressed: too few people).",
        reference=WALLS_REFERENCE,
        details={
            "ties": ties,
            "crossing_ties": int(crossing.sum()),
            "weighted_crossing_share": round(float(w[crossing].sum() / w.sum()), 4)
            if ties and figures.value is not None
            else None,
            "along_reporting_line": along,
            "reporting_lines": len(lines),
            "nmi": nmi,
            "ari": ari,
            "units": [unit_keys[u] for u in big],
            "unit_sizes": [sizes[u] for u in big],
            "matrix": matrix.tolist(),
            "mostly_outside": listing.value,
            "mostly_outside_count": len(names) if listing.value is not None else None,
        },
        note="; ".join(
            n
            for n in (
                figures.note,
                f"{small} unit(s) under k_min = {k_min} people left out of the matrix"
                if small
                else "",
                f"people working mostly outside their unit: {listing.note}" if listing.note else "",
            )
            if n
        ),
    )


def relay_depth(view: GraphView, k_min: int) -> Metric:
    """Hops from an original item to the items that use it along reply, citation and use
    chains (an item that replies to a reply is two hops from the original)."""
    kinds = [
        LINK_KINDS.index(k.value)
        for k in (LinkKind.REPLIES, LinkKind.CITES, LinkKind.USES, LinkKind.RESPONDS)
    ]
    people = view.people()
    chain = np.isin(view.link_kind, kinds) & ~people[view.src] & ~people[view.dst]
    src, dst = view.src[chain], view.dst[chain]
    depth = np.zeros(view.n_nodes, dtype=np.int64)
    unsettled = np.zeros(view.n_nodes, dtype=bool)
    for _ in range(RELAY_ROUNDS + 1):
        new = depth.copy()
        np.maximum.at(new, src, depth[dst] + 1)
        unsettled = new != depth
        if not unsettled.any():
            break
        depth = new
    # Items still deepening after RELAY_ROUNDS rounds sit on (or downstream of) a cycle of
    # replies or citations, where "hops from the original" has no answer: left out, counted.
    cyclic = int(unsettled.sum())
    used = depth[(depth > 0) & ~unsettled]
    if len(used) == 0:
        return Metric(
            "relay_depth",
            None,
            "How many hand-overs information goes through before it is used; no reply, "
            "citation or use chains in the store.",
            RELAY_REFERENCE,
            note="no chains",
        )
    counts = Counter(used.tolist())
    return Metric(
        name="relay_depth",
        value=round(float(used.mean()), 3),
        explanation=(
            "How many hand-overs information goes through between the person who produced it "
            "and the person who uses it (reply, citation and review chains): long relays are "
            f"slow and lossy; {float((used >= 3).mean()):.0%} of uses are 3 or more hops away."
        ),
        reference=RELAY_REFERENCE,
        details={
            "max": int(used.max()),
            "items_in_chains": len(used),
            "items_in_cycles": cyclic,
            "histogram": {str(k): int(v) for k, v in sorted(counts.items())},
        },
        note=f"{cyclic} item(s) on reply or citation cycles left out" if cyclic else "",
    )


__all__ = [
    "brokers",
    "ei_index",
    "relay_depth",
    "silos",
    "units_of",
    "walls_vs_work",
]
