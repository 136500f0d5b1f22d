"""Walls vs work on Krackhardt's high-tech managers: advice ties against the formal tree.

Krackhardt (1987) and Krackhardt and Hanson (1993) observed that advice in this firm flows
mostly across departments and around the reporting line, not along it. The people, their
departments, the reporting lines and the advice ties are read with the table source and the
mappings of ``docs/examples/krackhardt-*.toml``, as a user would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knotwork.graph.view import GraphView
from knotwork.ingest.tabular import TableSource
from knotwork.services.health_base import leiden, people_graph
from knotwork.services.health_structure import walls_vs_work
from knotwork.store.engine import Store
from knotwork.store.writer import ingest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
DATA = ROOT.parent / "shared" / "data" / "krackhardt"
FILES = {
    "people": "Krackhardt_HighTech__Attributes.csv",
    "reports": "Krackhardt_HighTech__ReportTo.csv",
    "advice": "Krackhardt_HighTech__Advice.csv",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent: the team's shared real data sets are not here")
    opened = Store.open(f"sqlite:///{tmp_path_factory.mktemp('kr')}/k.db")
    for mapping, name in FILES.items():
        ingest(opened, TableSource(DATA / name, EXAMPLES / f"krackhardt-{mapping}.toml"))
    yield opened
    opened.close()


def test_advice_flows_mostly_across_the_formal_tree(store: Store) -> None:
    view = GraphView.build(store)
    advice = people_graph(view, ("cites",))
    groups, _ = leiden(advice)
    metric = walls_vs_work(view, advice, groups, k_min=3)
    details = metric.details
    # 21 managers, 190 directed advice ties = 145 advising pairs; 20 reporting lines
    assert advice.n == 21
    assert details["ties"] == 145 and details["reporting_lines"] == 20
    # most advice crosses departments (110 of 145 pairs, 76%) ...
    assert details["crossing_ties"] == 110
    assert metric.value == pytest.approx(110 / 145, abs=1e-4)
    # ... and few advising pairs are a boss and their report (20 of 145: every reporting
    # line is also an advice tie, but they are a small part of the advice)
    assert details["along_reporting_line"] == 20
    # the departments explain little of who advises whom
    assert details["nmi"] < 0.5 and details["ari"] < 0.3
    # most managers get most of their advice from outside their department
    assert details["mostly_outside_count"] >= 15
