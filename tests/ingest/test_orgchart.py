"""The org chart source: units, membership, reporting lines, titles, identity, bad rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.errors import InputError
from knotwork.ingest.orgchart import OrgChartSource
from knotwork.model import Node
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.stats import stats
from knotwork.store.writer import ingest

CHART = Path(__file__).resolve().parents[1] / "data" / "orgchart" / "people.csv"
COLUMNS = {
    "person": "employee",
    "name": "full name",
    "email": "mail",
    "unit": "department",
    "manager": "boss",
    "title": "job title",
}


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/k.db")
    yield opened
    opened.close()


def edges(store: Store, kind: str) -> set[tuple[str, str]]:
    sql = (
        "SELECT s.key, d.key FROM links l JOIN nodes s ON s.id = l.src "
        f"JOIN nodes d ON d.id = l.dst WHERE l.kind = '{kind}'"
    )
    with store.connect() as connection:
        return {(str(a), str(b)) for a, b in connection.exec_driver_sql(sql)}


def test_the_chart_gives_units_membership_and_reporting_lines(store: Store) -> None:
    report = ingest(store, OrgChartSource(CHART, columns=COLUMNS))
    assert (report.read, report.ingested, report.rejected, report.duplicates) == (10, 8, 2, 0)
    assert sorted(r.reason for r in report.rejections) == [
        "column 'employee' is empty",
        "line has 4 fields, the header has 6",
    ]
    assert [p.split("people.csv:")[1] for p in report.defect_places] == [
        "8: manager '9999' has no row of their own",
        "9: the person is their own manager: no reports_to link",
    ]
    counts = stats(store)
    assert counts["nodes"] == {"org": 4, "person": 8}
    assert edges(store, "reports_to") == {
        ("rafael.mendes@example.org", "ingrid.halvorsen@example.org"),
        ("table:orgchart:1003", "rafael.mendes@example.org"),  # manager named by email
        ("m.alali@example.org", "rafael.mendes@example.org"),
        ("table:orgchart:1005", "ingrid.halvorsen@example.org"),
        ("table:orgchart:1005", "rafael.mendes@example.org"),
        ("table:orgchart:1006", "table:orgchart:9999"),
    }
    members = edges(store, "member_of")
    assert ("table:orgchart:1005", "table:orgchart:Research") in members
    assert ("table:orgchart:1005", "table:orgchart:Engineering") in members
    assert len(members) == 8
    with store.connect() as connection:
        name, attrs = connection.exec_driver_sql(
            "SELECT name, attrs FROM nodes WHERE id = ?",
            (Node.person("m.alali@example.org").id,),
        ).one()
        titles = {
            str(a)
            for (a,) in connection.exec_driver_sql(
                "SELECT attrs FROM links WHERE kind = 'member_of'"
            )
        }
    assert name == "محمد العلي"
    assert json.loads(attrs) == {"title": "Engineer", "unit": "Engineering"}
    assert '{"title":"Chief Executive"}' in titles


def test_people_with_an_email_are_the_same_person_as_elsewhere(store: Store) -> None:
    ingest(store, OrgChartSource(CHART, columns=COLUMNS))
    with store.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT person FROM aliases WHERE kind = 'email' AND value = ?",
            ("rafael.mendes@example.org",),
        ).all()
    assert found == [(Node.person("Rafael.Mendes@example.org").id,)]


def test_reingest_changes_nothing(store: Store, tmp_path: Path) -> None:
    ingest(store, OrgChartSource(CHART, columns=COLUMNS))
    before = digest(store)
    again = ingest(store, OrgChartSource(CHART, columns=COLUMNS))
    assert (again.read, again.ingested) == (0, 0)
    with store.begin() as connection:
        connection.exec_driver_sql("DELETE FROM sources")
    fresh = ingest(store, OrgChartSource(CHART, columns=COLUMNS, batch_size=3))
    assert fresh.balanced and fresh.read == 10
    assert digest(store) == before


def test_default_columns_and_errors(tmp_path: Path) -> None:
    chart = tmp_path / "chart.csv"
    chart.write_text("person,unit,manager,title\nada,Research,,Head\nalan,Research,ada,Analyst\n")
    [batch] = list(OrgChartSource(chart, namespace="acme").batches(None))
    keys = {node.key for record in batch.records for node in record.nodes}
    assert keys == {"table:acme:ada", "table:acme:alan", "table:acme:Research"}
    with pytest.raises(InputError, match="unknown org chart role 'boss'"):
        OrgChartSource(chart, columns={"boss": "manager"})
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match=r"empty\.csv: empty file"):
        list(OrgChartSource(tmp_path / "empty.csv").batches(None))
    (tmp_path / "other.csv").write_text("name,team\nada,x\n")
    with pytest.raises(InputError, match="column 'person' is not in the header"):
        list(OrgChartSource(tmp_path / "other.csv").batches(None))
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"person,unit\nada\x00,Research\n")
    [batch] = list(OrgChartSource(nul).batches(None))
    assert batch.records[0].defects == ["NUL byte removed"]
    assert batch.records[0].nodes[0].key == "table:orgchart:ada"


def test_cli_ingest_orgchart(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/k.db"
    args = ["ingest", "orgchart", str(CHART), "--db", db, "--json"]
    for role, header in COLUMNS.items():
        args += ["--column", f"{role}={header}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 6  # two rows rejected
    report = json.loads(result.stdout)
    assert (report["ingested"], report["rejected"]) == (8, 2)
    bad = CliRunner().invoke(app, ["ingest", "orgchart", str(CHART), "--column", "person"])
    assert bad.exit_code == 2


@pytest.mark.postgres
def test_same_digest_on_sqlite_and_postgresql(
    sqlite_urls: Callable[[], str], postgres_urls: Callable[[], str]
) -> None:
    digests = []
    for url in (sqlite_urls(), postgres_urls()):
        store = Store.open(url)
        ingest(store, OrgChartSource(CHART, columns=COLUMNS))
        digests.append(digest(store))
        store.close()
    assert digests[0] == digests[1]


def test_units_form_a_tree_through_the_parent_column(store: Store, tmp_path: Path) -> None:
    chart = tmp_path / "tree.csv"
    chart.write_text(
        "person,unit,parent,manager\n"
        "ada,Company,,\n"
        "alan,Research,Company,ada\n"
        "grace,Compilers,Research,alan\n"
        "edsger,Compilers,Research,alan\n"
    )
    report = ingest(store, OrgChartSource(chart, namespace="acme"))
    assert (report.ingested, report.rejected, report.defects) == (4, 0, 0)
    units = {(a, b) for a, b in edges(store, "member_of") if not a.startswith("table:acme:a")}
    assert {
        ("table:acme:Research", "table:acme:Company"),
        ("table:acme:Compilers", "table:acme:Research"),
    } <= units
    assert stats(store)["links"]["member_of"] == 6  # four people, two units
