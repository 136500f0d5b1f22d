"""Inequality (Gini, Lorenz curve) and the periphery of the people graph.

>>> gini([1, 1, 1, 1])
0.0
>>> gini([0, 0, 0, 1])
0.75
>>> lorenz([1, 1, 2])[1][-1]
1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from knotwork.services.health_base import Metric, PeopleGraph, core_numbers
from knotwork.services.privacy import release_count

GINI_REFERENCE = "Gini (1912); Lorenz (1905)"
PERIPHERY_REFERENCE = (
    "Seidman (1983), k-cores; Hargittai (2002) and van Dijk (2020), the digital divide"
)


def gini(values: Sequence[float] | npt.NDArray[np.float64]) -> float:
    """Gini coefficient of non-negative ``values``: 0 all equal, near 1 one holds everything.

    Mean absolute difference over twice the mean (population form, ``(n-1)/n`` at most).

    >>> round(gini([1, 2, 3, 4]), 4)
    0.25
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * x).sum()) / (n * x.sum()) - (n + 1) / n)


def lorenz(
    values: Sequence[float] | npt.NDArray[np.float64], points: int = 101
) -> tuple[list[float], list[float]]:
    """The Lorenz curve: share of people (poorest first) against their share of the total.

    Returned at ``points`` evenly spaced population shares (fewer when there are few people).

    >>> lorenz([0, 0, 0, 4], points=5)
    ([0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.0, 0.0, 0.0, 1.0])
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return [0.0, 1.0], [0.0, 1.0]
    cumulative = np.concatenate([[0.0], np.cumsum(x) / x.sum()])
    population = np.linspace(0.0, 1.0, n + 1)
    grid = np.linspace(0.0, 1.0, min(points, n + 1))
    share = np.interp(grid, population, cumulative)
    return [round(float(g), 6) for g in grid], [round(float(s), 6) for s in share]


def inequality(name: str, values: npt.NDArray[np.float64], k_min: int) -> Metric:
    """The Gini metric of ``values`` (one per person), with its Lorenz curve."""
    what, verb, it = ("authority", "is", "it") if "authority" in name else ("ties", "are", "them")
    released = release_count(len(values), gini(values), k_min=k_min)
    xs, ys = lorenz(values) if not released.suppressed else ([], [])
    top = 0.0
    if not released.suppressed and values.sum() > 0:
        cut = max(1, int(np.ceil(len(values) * 0.1)))
        top = float(np.sort(values)[::-1][:cut].sum() / values.sum())
    return Metric(
        name=name,
        value=None if released.value is None else round(released.value, 4),
        explanation=(
            f"How unequally {what} {verb} spread over people: 0 means everyone has the same, "
            f"1 means one person has it all; the top 10% of people hold {top:.0%} of {it}."
        ),
        reference=GINI_REFERENCE,
        details={"lorenz_x": xs, "lorenz_y": ys, "top10_share": round(top, 4)},
        note=released.note,
    )


def periphery(
    graph: PeopleGraph, k_min: int, *, cores: npt.NDArray[np.int64] | None = None
) -> Metric:
    """Share of people who are isolated or sit in the outer k-shells of the people graph.

    The outer shells are those with core number at most ``max(1, max_core // 4)``.
    """
    core = core_numbers(graph) if cores is None else cores
    top = int(core.max()) if len(core) else 0
    outer = max(1, top // 4)
    isolated = int((graph.degree() == 0).sum())
    peripheral = int((core <= outer).sum())
    released = release_count(graph.n, peripheral / graph.n if graph.n else 0.0, k_min=k_min)
    share_isolated = isolated / graph.n if graph.n else 0.0
    return Metric(
        name="periphery",
        value=None if released.value is None else round(released.value, 4),
        explanation=(
            "Share of people on the edge of the network: working with nobody, or only with a "
            f"few people who are themselves loosely tied (k-shells 0 to {outer} of {top}); "
            f"{share_isolated:.0%} work with nobody at all."
        ),
        reference=PERIPHERY_REFERENCE,
        details={
            "outer_shell": outer,
            "max_core": top,
            "isolated_share": round(share_isolated, 4) if not released.suppressed else None,
            "shells": {
                str(k): int(c)
                for k, c in zip(*np.unique(core, return_counts=True), strict=True)
                if c >= k_min
            },
        },
        note=released.note,
    )


__all__ = ["gini", "inequality", "lorenz", "periphery"]
