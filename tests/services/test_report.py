"""The HTML report: self-contained (no web references), each plot present, privacy kept."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from knotwork.graph.sample import sample_store
from knotwork.graph.view import GraphView
from knotwork.services.health import health_of_view
from knotwork.services.report import PLOTS, external_references, render, write_report

T0 = 1_600_000_000
DAY = 86_400


def _org_view() -> GraphView:
    """Three units of six people; work mostly inside units, with a few ties across; commits on
    files in two areas."""
    nodes = [(1000 + u, "org", f"unit {u}", 0) for u in range(3)]
    nodes += [(p, "person", f"p{p}@x.org", 0) for p in range(1, 19)]
    links = [(p, 1000 + (p - 1) // 6, "member_of", T0, 1.0, 0) for p in range(1, 19)]
    for u in range(3):
        members = range(6 * u + 1, 6 * u + 7)
        for i, (a, b) in enumerate(itertools.combinations(members, 2)):
            links.append((a, b, "cites", T0 + (i + u * 15) * 10 * DAY, 1.0, 0))
    links += [(6, 7, "mentions", T0 + 5 * DAY, 1.0, 0), (12, 13, "mentions", T0 + 9 * DAY, 1.0, 0)]
    for c in range(12):
        commit, path = 5000 + c, 6000 + c % 4
        links.append((1 + c % 3, commit, "authored", T0 + c * DAY, 1.0, 0))
        links.append((commit, path, "changed", T0 + c * DAY, 1.0, 0))
        nodes.append((commit, "commit", f"{c:040x}", 0))
    nodes += [(6000 + f, "file", f"{'lib' if f < 2 else 'app'}/f{f}.c", 0) for f in range(4)]
    return GraphView.from_rows(nodes, links)


def test_report_is_self_contained_and_has_every_plot(tmp_path: Path) -> None:
    view = _org_view()
    report = health_of_view(view, k_min=3)
    text = render(view, report)
    assert external_references(text) == []
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", text)
    assert "plotly.js v" in text  # the library is inline
    for name in PLOTS:
        assert f'id="{name}"' in text and f'id="plot-{name}"' in text
    # each plot carries its data
    assert "Lorenz curves" in text and "Growth" in text and "Group map" in text
    assert "Walls vs work" in text and "Truck factor by area" in text
    assert '"unit 0"' in text or "unit 0" in text
    assert "lib" in text and "app" in text
    # every metric's explanation is in the summary table
    for metric in report.metrics:
        assert metric.name.replace("_", " ") in text


def test_report_keeps_small_groups_out(tmp_path: Path) -> None:
    out = write_report(sample_store(), tmp_path / "r.html", k_min=3)
    text = out.read_text()
    assert external_references(text) == []
    # the sample has two people: the inequality figures are withheld
    assert "withheld" in text and "fewer than k_min = 3" in text


def test_external_references_finds_cdn_scripts_and_stylesheets() -> None:
    page = (
        '<script src="https://cdn.plot.ly/plotly.min.js"></script>'
        "<link rel=stylesheet href='http://x.org/a.css'><style>@import url(//f.org/b.css)</style>"
    )
    assert len(external_references(page)) == 3
