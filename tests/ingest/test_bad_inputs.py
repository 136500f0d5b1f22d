"""Each source on its ``bad-inputs`` fixture (made by ``tests/data/make_bad_inputs.py``).

A truncated last record, wrong JSON types, a huge field, NUL bytes, right-to-left and emoji
names: bad records are rejected with their file and record (line) and a reason, the valid ones
around them are stored, on SQLite and PostgreSQL alike (which refuses NUL in text).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from knotwork.ingest.base import Source
from knotwork.ingest.mattermost import MattermostSource
from knotwork.ingest.mbox import MboxSource
from knotwork.ingest.orgchart import OrgChartSource
from knotwork.ingest.perceval import PercevalSource
from knotwork.ingest.tabular import TableSource
from knotwork.store.engine import Store
from knotwork.store.writer import ingest

DATA = Path(__file__).resolve().parent.parent / "data"
NOW = 1_800_000_000
ORG = {"person": "employee", "name": "full name", "email": "mail", "unit": "department"}
ORG |= {"manager": "boss", "title": "job title"}
RTL = "\u202eفرح رحمن 🌙"

CASES: dict[str, tuple[Callable[[], Source], list[int], int, str]] = {
    # source, rejected lines, records stored, a name that must be stored verbatim
    "mattermost": (
        lambda: MattermostSource(DATA / "mattermost" / "bad-inputs.jsonl"),
        [7, 9, 10, 11, 12, 15],
        8,
        "فرح \u202eرحمن 🌙",
    ),
    "orgchart": (
        lambda: OrgChartSource(DATA / "orgchart" / "bad-inputs.csv", columns=ORG),
        [5, 8],  # 8: an unclosed quote runs to the end of the file
        5,
        "محمد \u202eالعلي",  # noqa: RUF001
    ),
    "perceval": (
        lambda: PercevalSource(DATA / "perceval" / "bad-inputs.jsonl"),
        [4, 7, 9],
        6,
        RTL,
    ),
    "table": (
        lambda: TableSource(DATA / "table" / "bad-inputs.jsonl", DATA / "table" / "calls.toml"),
        [3, 5, 7],
        4,
        RTL,
    ),
    "mbox": (
        lambda: MboxSource([DATA / "mbox" / "bad-inputs.mbox"], now=NOW),
        [21],
        6,
        RTL,
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_bad_inputs_are_named_and_spare_the_rest(kind: str, store: Store) -> None:
    make, rejected, stored, name = CASES[kind]
    source = make()
    report = ingest(store, source)
    assert report.balanced
    assert (report.ingested, report.duplicates) == (stored, 0)
    file = Path(source.location.split(" (+")[0].split("!")[0]).name
    assert [r.place.rsplit("/", 1)[-1] for r in report.rejections] == [
        f"{file}:{line}" for line in rejected
    ]
    assert all(r.reason for r in report.rejections)
    if kind in {"mattermost", "perceval", "table"}:  # the truncated last line says so
        assert report.rejections[-1].reason.endswith("(truncated?)") or "Unterminated" in (
            report.rejections[-1].reason
        )
    with store.connect() as connection:
        names = {row[0] for row in connection.execute(text("SELECT name FROM nodes"))}
        keys = {row[0] for row in connection.execute(text("SELECT key FROM nodes"))}
        longest = connection.execute(text("SELECT max(length(text)) FROM texts")).scalar()
    assert name in names, sorted(names)[:20]
    assert not any("\x00" in n for n in names | keys)
    if kind in {"mattermost", "perceval", "mbox"}:  # the huge body is stored, maybe cut
        assert longest is not None and longest >= 1000
