"""The health report: one self-contained HTML file with plots, readable offline.

Made from the same service functions as ``knotwork health`` (:func:`health_of_view`), with
plotly: its JavaScript is written inline into the file once (what ``include_plotlyjs=True``
writes), so
nothing is fetched from the web when the file is opened. Plots: Lorenz curves, growth, a map of
the emergent groups, the walls-vs-work matrix and the truck factor by area. Groups and units
under ``k_min`` people are left out, like every other aggregate.

>>> from knotwork.graph.sample import sample_store
>>> html = report_html(sample_store(), k_min=3)
>>> html.startswith("<!DOCTYPE html>"), external_references(html), "plotly.js v" in html
(True, [], True)
"""

from __future__ import annotations

import html as html_text
import re
from collections import Counter
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import networkx as nx
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import scipy.sparse as sp
from plotly.offline import get_plotlyjs

from knotwork.graph.view import DEFAULT_HALF_LIFE_DAYS, GraphView, cached_view
from knotwork.services.health import HealthReport, groups_of, health_of_view
from knotwork.services.health_base import Metric
from knotwork.services.privacy import DEFAULT_K_MIN
from knotwork.store.engine import Store

#: Ids of the plots in the report, in order (each is a ``<div id=...>``).
PLOTS: tuple[str, ...] = ("lorenz", "growth", "groups", "walls", "truck")


_EXTERNAL = re.compile(
    r"""<script[^>]*\bsrc\s*=\s*["']?(?:https?:)?//[^"' >]*"""
    r"""|<link[^>]*\bhref\s*=\s*["']?(?:https?:)?//[^"' >]*"""
    r"""|@import\s+(?:url\()?["']?(?:https?:)?//[^"' )]*""",
    re.IGNORECASE,
)


def external_references(text: str) -> list[str]:
    """Script, stylesheet and ``@import`` references to the web in ``text`` (none = offline).

    >>> external_references('<script src="https://cdn.plot.ly/x.js"></script>')
    ['<script src="https://cdn.plot.ly/x.js']
    """
    return _EXTERNAL.findall(text)


def _template() -> Template:
    text = resources.files("knotwork.services").joinpath("templates/report.html").read_text()
    return Template(text)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "template": "plotly_white", "height": 460, **extra}


def lorenz_figure(report: HealthReport) -> go.Figure:
    """Lorenz curves of authority and of ties, with the line of equality."""
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="equality", line={"dash": "dot"})
    for name, label in (("authority_inequality", "authority"), ("degree_inequality", "ties")):
        metric = report.metric(name)
        if metric.value is not None:
            figure.add_scatter(
                x=metric.details["lorenz_x"],
                y=metric.details["lorenz_y"],
                mode="lines",
                name=f"{label} (Gini {metric.value:.2f})",
            )
    figure.update_layout(
        _layout("Lorenz curves", xaxis_title="share of people", yaxis_title="share held")
    )
    return figure


def growth_figure(report: HealthReport) -> go.Figure:
    """Active people and interacting pairs per period, and the fitted exponent."""
    metric = report.metric("growth")
    points = metric.details.get("series", [])
    days = [datetime.fromtimestamp(p["start"], UTC).strftime("%Y-%m-%d") for p in points]
    figure = go.Figure()
    figure.add_scatter(x=days, y=[p["n"] for p in points], name="active people n(t)")
    figure.add_scatter(x=days, y=[p["m"] for p in points], name="interacting pairs m(t)")
    b = "n/a" if metric.value is None else f"{metric.value:.2f}"
    low, high = metric.details.get("ci95", [None, None])
    interval = "" if low is None or high is None else f" (95% CI {low:.2f} to {high:.2f})"
    figure.update_layout(_layout(f"Growth: pairs ~ people^b, b = {b}{interval}", yaxis_type="log"))
    return figure


def groups_figure(view: GraphView, k_min: int) -> go.Figure:
    """The emergent groups as bubbles (size = people), placed by the ties between groups."""
    people, labels, _ = groups_of(view)
    sizes = Counter(labels.tolist())
    shown = sorted((g for g, s in sizes.items() if s >= k_min), key=lambda g: -sizes[g])[:200]
    upper = sp.triu(people.adjacency, k=1).tocoo()
    between = Counter()  # type: Counter[tuple[int, int]]
    code = np.full(int(labels.max()) + 1 if len(labels) else 0, -1, dtype=np.int64)
    code[np.asarray(shown, dtype=np.int64)] = np.arange(len(shown))
    a, b = labels[upper.row].astype(np.int64), labels[upper.col].astype(np.int64)
    keep = (a != b) & (code[a] >= 0) & (code[b] >= 0)
    low, high = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    width = len(code)
    pairs, first, counts = np.unique(low * width + high, return_index=True, return_counts=True)
    for order in np.argsort(first, kind="stable").tolist():  # first appearance, as a loop would
        pair = int(pairs[order])
        between[(pair // width, pair % width)] = int(counts[order])
    graph = nx.Graph()
    graph.add_nodes_from(shown)
    for (a, b), count in between.items():
        graph.add_edge(a, b, weight=count)
    place = nx.spring_layout(graph, seed=0, weight="weight") if shown else {}
    figure = go.Figure()
    for (a, b), _count in between.most_common(400):
        figure.add_scatter(
            x=[place[a][0], place[b][0]],
            y=[place[a][1], place[b][1]],
            mode="lines",
            line={"width": 0.5, "color": "#bbb"},
            hoverinfo="skip",
            showlegend=False,
        )
    biggest = max(sizes.values()) if sizes else 1
    figure.add_scatter(
        x=[place[g][0] for g in shown],
        y=[place[g][1] for g in shown],
        mode="markers+text",
        text=[f"group {g}" for g in shown],
        hovertext=[f"group {g}: {sizes[g]} people" for g in shown],
        marker={"size": [10 + 50 * np.sqrt(sizes[g] / biggest) for g in shown]},
        showlegend=False,
    )
    hidden = len(sizes) - len(shown)
    note = f" ({hidden} groups under k_min or beyond the 200 largest not shown)" if hidden else ""
    figure.update_layout(
        _layout("Group map" + note, xaxis={"visible": False}, yaxis={"visible": False})
    )
    return figure


def walls_figure(report: HealthReport) -> go.Figure:
    """Ties between formal units (rows and columns), diagonal = ties inside a unit."""
    metric = report.metric("walls_vs_work")
    units = [u.rsplit(":", 1)[-1] for u in metric.details.get("units", [])]
    figure = go.Figure(
        go.Heatmap(z=metric.details.get("matrix", []), x=units, y=units, colorscale="Blues")
    )
    value = "no org chart" if metric.value is None else f"{metric.value:.0%} of ties cross units"
    figure.update_layout(_layout(f"Walls vs work: {value}"))
    return figure


def truck_figure(report: HealthReport) -> go.Figure:
    """Truck factor of each area (the 30 areas with most files)."""
    metric = report.metric("truck_factor")
    areas = metric.details.get("areas", [])[:30]
    figure = go.Figure(
        go.Bar(
            x=[a["area"] for a in areas],
            y=[a["truck_factor"] for a in areas],
            hovertext=[f"{a['files']} files, {a['authors']} authors" for a in areas],
        )
    )
    whole = "n/a" if metric.value is None else str(metric.value)
    figure.update_layout(_layout(f"Truck factor by area (whole project: {whole})"))
    return figure


def _row(metric: Metric) -> str:
    value = "withheld" if metric.value is None else html_text.escape(str(metric.value))
    note = f'<div class="note">{html_text.escape(metric.note)}</div>' if metric.note else ""
    return (
        f"<tr><td>{html_text.escape(metric.name.replace('_', ' '))}</td>"
        f'<td class="value">{value}</td><td>{html_text.escape(metric.explanation)}{note}'
        f'<div class="ref">{html_text.escape(metric.reference)}</div></td></tr>'
    )


def render(view: GraphView, report: HealthReport, *, title: str = "Knotwork health") -> str:
    """The HTML text of the report of ``view``."""
    figures = {
        "lorenz": lorenz_figure(report),
        "growth": growth_figure(report),
        "groups": groups_figure(view, report.k_min),
        "walls": walls_figure(report),
        "truck": truck_figure(report),
    }
    parts = []
    for name in PLOTS:
        body = pio.to_html(
            figures[name], full_html=False, include_plotlyjs=False, div_id=f"plot-{name}"
        )
        parts.append(f'<div class="figure" id="{name}">{body}</div>')
    plotlyjs = f'<script type="text/javascript">{get_plotlyjs()}</script>'
    return _template().substitute(
        title=html_text.escape(title),
        as_of=datetime.fromtimestamp(report.as_of, UTC).strftime("%Y-%m-%d"),
        people=report.people,
        k_min=report.k_min,
        rows="\n".join(_row(m) for m in report.metrics),
        plotlyjs=plotlyjs,
        figures="\n".join(parts),
    )


def report_html(
    store: Store,
    *,
    as_of: int | None = None,
    k_min: int = DEFAULT_K_MIN,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    samples: int | None = None,
) -> str:
    """The HTML report of ``store`` as it stood at ``as_of``."""
    view = cached_view(store, as_of=as_of, half_life_days=half_life_days)
    report = health_of_view(view, k_min=k_min, samples=samples)
    return render(view, report)


def write_report(store: Store, out: Path, **options: Any) -> Path:
    """Write the report of ``store`` to ``out`` (see :func:`report_html`); returns ``out``."""
    out.write_text(report_html(store, **options), encoding="utf-8")
    return out


__all__ = [
    "PLOTS",
    "external_references",
    "groups_figure",
    "growth_figure",
    "lorenz_figure",
    "render",
    "report_html",
    "truck_figure",
    "walls_figure",
    "write_report",
]
