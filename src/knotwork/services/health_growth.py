"""Growth: active people ``n(t)`` and interacting pairs ``m(t)`` per period, and the exponent
``b`` of ``m ~ n^b`` fitted by least squares on logs, with its 95% confidence interval.

Metcalfe's law says ``b = 2`` (every pair interacts); ``b`` near 1 means each newcomer adds a
fixed number of ties, as in most real networks (Leskovec, Kleinberg and Faloutsos 2005 call a
``b`` between 1 and 2 densification).

>>> n = [10, 20, 40, 80, 160]
>>> fit = fit_exponent(n, [3 * x**1.5 for x in n])
>>> round(fit.b, 6), fit.low < 1.5 < fit.high or fit.low == fit.high == 1.5
(1.5, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.stats

from knotwork.graph.view import DAY, LINK_KINDS, GraphView
from knotwork.services.health_base import FORMAL, Metric
from knotwork.services.privacy import release_count

REFERENCE = (
    "Metcalfe (2013), Metcalfe's law after 40 years of Ethernet; Leskovec, Kleinberg and "
    "Faloutsos (2005), graphs over time: densification laws"
)


@dataclass(frozen=True, slots=True)
class Fit:
    """``log m = a + b log n``: the exponent ``b``, its 95% interval and the points used."""

    b: float
    low: float
    high: float
    a: float
    points: int


def fit_exponent(n: Sequence[float], m: Sequence[float]) -> Fit:
    """Least-squares fit of ``log m`` on ``log n`` over the points where both are positive.

    >>> fit_exponent([1, 2], [1, 4]).points
    2
    """
    x = np.asarray(n, dtype=np.float64)
    y = np.asarray(m, dtype=np.float64)
    keep = (x > 0) & (y > 0)
    lx, ly = np.log(x[keep]), np.log(y[keep])
    points = int(keep.sum())
    if points < 2 or np.ptp(lx) == 0:
        return Fit(float("nan"), float("nan"), float("nan"), float("nan"), points)
    b, a = np.polyfit(lx, ly, 1)
    if points < 3:
        return Fit(float(b), float("nan"), float("nan"), float(a), points)
    residual = ly - (a + b * lx)
    sigma2 = float((residual**2).sum() / (points - 2))
    se = float(np.sqrt(sigma2 / ((lx - lx.mean()) ** 2).sum()))
    t = float(scipy.stats.t.ppf(0.975, points - 2))
    return Fit(float(b), float(b - t * se), float(b + t * se), float(a), points)


def series(view: GraphView, period_days: float) -> list[dict[str, int]]:
    """Per period (oldest first): its start, active people ``n`` and interacting pairs ``m``.

    A person is active in a period when they have a link in it; two people interact when they
    take part in the same item, or link directly, in that period.
    """
    formal = [LINK_KINDS.index(k) for k in FORMAL]
    people = view.people()
    dated = (view.time > 0) & ~np.isin(view.link_kind, formal) & people[view.src]
    if not dated.any():
        return []
    src, dst, when = view.src[dated], view.dst[dated], view.time[dated]
    step = int(period_days * DAY)
    start = int(when.min())
    period = (when - start) // step
    order = np.argsort(period, kind="stable")
    src, dst, period = src[order], dst[order], period[order]
    bounds = np.searchsorted(period, np.arange(int(period.max()) + 2))
    n_nodes = view.n_nodes
    result = []
    for p in range(len(bounds) - 1):
        lo, hi = bounds[p], bounds[p + 1]
        s, d = src[lo:hi], dst[lo:hi]
        active = np.unique(np.concatenate([s, d[people[d]]]))
        direct = people[d]
        item = ~direct
        incidence = sp.csr_matrix(
            (np.ones(int(item.sum())), (s[item], d[item])), shape=(n_nodes, n_nodes)
        )
        incidence.data[:] = 1.0
        pair = (incidence @ incidence.T).tocsr()
        pair = pair + sp.csr_matrix(
            (np.ones(int(direct.sum())), (s[direct], d[direct])), shape=(n_nodes, n_nodes)
        )
        pair = (pair + pair.T).tocsr()
        pair.setdiag(0)
        pair.eliminate_zeros()
        rows, cols = pair.nonzero()
        m = int(((rows < cols) & people[rows] & people[cols]).sum())
        result.append({"start": start + p * step, "n": len(active), "m": m})
    return result


def growth_metric(view: GraphView, k_min: int, *, period_days: float | None = None) -> Metric:
    """The growth metric: ``n(t)``, ``m(t)`` and the fitted exponent (periods with fewer than
    ``k_min`` active people are suppressed and left out of the fit)."""
    if period_days is None:
        dated = view.time[view.time > 0]
        span = float(dated.max() - dated.min()) / DAY if len(dated) else 0.0
        period_days = max(7.0, span / 24) if span else 30.0
    points = series(view, period_days)
    shown = []
    for point in points:
        released = release_count(point["n"], point, k_min=k_min)
        if released.value is not None:
            shown.append(point)
    fit = fit_exponent([p["n"] for p in shown], [p["m"] for p in shown])
    hidden = len(points) - len(shown)

    def clean(x: float) -> float | None:
        return None if np.isnan(x) else round(x, 4)

    return Metric(
        name="growth",
        value=clean(fit.b),
        explanation=(
            "How the number of working ties grows with the number of active people: pairs grow "
            "like people to the power b; b = 2 would mean everyone works with everyone "
            "(Metcalfe), b near 1 that each newcomer adds a fixed number of ties."
        ),
        reference=REFERENCE,
        details={
            "period_days": round(period_days, 2),
            "ci95": [clean(fit.low), clean(fit.high)],
            "points": fit.points,
            "series": shown,
        },
        note=(
            f"{hidden} period(s) with fewer than k_min = {k_min} active people suppressed"
            if hidden
            else ""
        ),
    )


__all__ = ["Fit", "fit_exponent", "growth_metric", "series"]
