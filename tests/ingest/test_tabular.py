"""The table source: mappings, the four formats, malformed rows, identity, idempotence."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.errors import InputError
from knotwork.ingest.base import Batch
from knotwork.ingest.tabular import TableSource
from knotwork.ingest.tabular_mapping import Mapping
from knotwork.model import Flag, LinkKind, Node, NodeKind
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.stats import stats
from knotwork.store.writer import SourceInfo, ingest, write_batch

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "table"
EXAMPLES = ROOT / "docs" / "examples"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/k.db")
    yield opened
    opened.close()


def rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    with store.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def node(store: Store, kind: NodeKind, key: str) -> tuple[object, ...]:
    found = rows(store, f"SELECT name, attrs FROM nodes WHERE id = {Node.node_id(kind, key)}")
    assert found, f"no {kind.value} {key}"
    return found[0]


# -- the Enron format with the shipped mappings -----------------------------------------------


def test_enron_sample_ingests_with_the_example_mappings(store: Store) -> None:
    messages = ingest(store, TableSource(DATA / "messages.json", EXAMPLES / "enron-messages.toml"))
    assert (messages.read, messages.ingested, messages.rejected) == (8, 4, 4)
    assert messages.balanced
    reasons = {r.place.rsplit(":", 1)[1]: r.reason for r in messages.rejections}
    assert reasons == {
        "26": "time 'not a time' is not unix",
        "34": "column 'sender' holds a JSON object, expected text or a number",
        "42": "column 'receiver' holds a JSON array, expected text or a number",
        "50": "record 7: a JSON string, expected an object",
    }
    actors = ingest(store, TableSource(DATA / "actors.json", EXAMPLES / "enron-actors.toml"))
    assert (actors.read, actors.ingested, actors.rejected) == (4, 4, 0)
    counts = stats(store)
    assert counts["nodes"] == {"message": 4, "person": 4, "org": 3}
    assert counts["links"] == {"authored": 4, "mentions": 7, "member_of": 3}
    # names and attrs from the actors survive the nameless sightings in the messages
    name, attrs = node(store, NodeKind.PERSON, "table:enron:3")
    assert name == "נועה לוי"
    assert json.loads(str(attrs))["title"] == "Mgr Trading"
    assert node(store, NodeKind.PERSON, "table:enron:4")[0] == "Kenji 🚀 Watanabe"
    assert node(store, NodeKind.MESSAGE, "table:enron:2")[0] == "Indemnification"
    texts = rows(store, "SELECT text FROM texts ORDER BY text")
    assert ("Re: Indemnification",) in texts


def test_enron_order_does_not_matter(tmp_path: Path) -> None:
    pairs = [
        (DATA / "messages.json", EXAMPLES / "enron-messages.toml"),
        (DATA / "actors.json", EXAMPLES / "enron-actors.toml"),
    ]
    digests = []
    for name, order in (("a", pairs), ("b", pairs[::-1])):
        store = Store.open(f"sqlite:///{tmp_path}/{name}.db")
        for data, mapping in order:
            ingest(store, TableSource(data, mapping))
        digests.append(digest(store))
        store.close()
    assert digests[0] == digests[1]


def test_truncated_json_array_keeps_its_head(store: Store) -> None:
    report = ingest(store, TableSource(DATA / "truncated.json", EXAMPLES / "enron-messages.toml"))
    assert (report.read, report.ingested, report.rejected) == (3, 2, 1)
    [rejection] = report.rejections
    assert rejection.place.endswith("truncated.json:4")
    assert rejection.reason.startswith("record 3: truncated or invalid JSON")


# -- CSV and JSON lines: emails, lists, malformed rows ----------------------------------------


def test_csv_rows_with_emails_lists_and_defects(store: Store) -> None:
    report = ingest(store, TableSource(DATA / "calls.csv", DATA / "calls.toml"))
    assert (report.read, report.ingested, report.rejected, report.duplicates) == (11, 4, 7, 0)
    reasons = {r.place.rsplit(":", 1)[1]: r.reason for r in report.rejections}
    assert reasons == {
        "5": "time 'yesterday' is not iso",
        "6": "weight 'lots' is not a number",
        "8": "line has 3 fields, the header has 8",
        "9": "uid column 'uid' is empty",
        "10": "column 'caller_id' is empty",
        "11": "column 'callees' is empty",
        "12": "unreadable CSV: unexpected end of data",
    }
    assert report.defect_places == [f"{DATA / 'calls.csv'}:7: NUL byte removed from column 'topic'"]
    # an email column makes the person the one every source knows by that email
    assert node(store, NodeKind.PERSON, "ada.okafor@example.org")[0] == "Ada Okafor"
    assert node(store, NodeKind.PERSON, "sara@example.org")[0] == "سارة القحطاني"
    assert node(store, NodeKind.PERSON, "chen@example.org")[0] == "Chen 🎉 Wei"
    # without one, the person is keyed in the namespace and named by an alias
    assert node(store, NodeKind.PERSON, "table:calls:e18")[0] == "Bilal Haddad"
    aliases = {(str(k), str(v)) for k, v in rows(store, "SELECT kind, value FROM aliases")}
    assert {("email", "ada.okafor@example.org"), ("name", "Bilal Haddad")} <= aliases
    # receivers split into one link each, weighted by the minutes column, at the row's time
    mentions = rows(store, "SELECT weight, time FROM links WHERE kind = 'mentions' ORDER BY time")
    assert mentions[:3] == [(3.5, 1_614_589_200), (12.0, 1_614_590_100), (12.0, 1_614_590_100)]
    assert node(store, NodeKind.MESSAGE, "table:calls:c6")[0] == "Launch party"


def test_json_lines_with_wrong_types(store: Store) -> None:
    report = ingest(store, TableSource(DATA / "calls.jsonl", DATA / "calls.toml"))
    assert (report.read, report.ingested, report.rejected) == (7, 3, 4)
    reasons = {r.place.rsplit(":", 1)[1]: r.reason for r in report.rejections}
    assert reasons == {
        "3": "column 'caller' holds a JSON boolean, expected text or a number",
        "4": "a JSON array, expected an object",
        "5": "invalid JSON (Expecting ',' delimiter at column 65)",
        "8": "column 'callees' is empty",
    }
    # the same rows as calls.csv: the same nodes
    assert node(store, NodeKind.PERSON, "ada.okafor@example.org")[0] == "Ada Okafor"


def test_invalid_utf8_is_replaced_and_noted(store: Store) -> None:
    report = ingest(store, TableSource(DATA / "latin1.csv", DATA / "calls.toml"))
    assert (report.ingested, report.defects) == (2, 1)
    assert report.defect_places[0].endswith("latin1.csv:2: invalid UTF-8 replaced")
    assert node(store, NodeKind.PERSON, "table:calls:e30")[0] == "Jos\ufffd Mart\ufffdnez"


# -- the adjacency matrix -----------------------------------------------------------------------


def test_matrix_cells_become_ties_named_by_the_names_file(store: Store) -> None:
    report = ingest(store, TableSource(DATA / "ties.csv", DATA / "ties.toml"))
    assert (report.read, report.ingested, report.rejected) == (6, 4, 2)
    assert sorted(r.reason for r in report.rejections) == [
        "column 2: 'x' is not a number",
        "line has 2 cells, expected 4",
    ]
    cites = rows(
        store,
        "SELECT s.key, d.key, l.attrs FROM links l JOIN nodes s ON s.id = l.src "
        "JOIN nodes d ON d.id = l.dst ORDER BY s.key, d.key",
    )
    assert [(s, d) for s, d, _ in cites] == [
        ("table:ties:P1", "table:ties:P2"),
        ("table:ties:P1", "table:ties:P4"),
        ("table:ties:P2", "table:ties:P4"),
        ("table:ties:P3", "table:ties:P1"),
    ]
    assert json.loads(str(cites[0][2])) == {"tie": "advice"}


# -- idempotence and resume ---------------------------------------------------------------------


def test_reingest_changes_nothing(store: Store, tmp_path: Path) -> None:
    mapping = EXAMPLES / "enron-messages.toml"
    ingest(store, TableSource(DATA / "messages.json", mapping))
    before = digest(store)
    again = ingest(store, TableSource(DATA / "messages.json", mapping))
    assert (again.read, again.ingested) == (0, 0)
    with store.begin() as connection:
        connection.exec_driver_sql("DELETE FROM sources")
    fresh = ingest(store, TableSource(DATA / "messages.json", mapping))
    assert (fresh.read, fresh.duplicates, fresh.rejected, fresh.ingested) == (8, 4, 4, 0)
    # a grown file is read again: old rows are duplicates, new rows ingested
    grown = tmp_path / "messages.json"
    text = (DATA / "messages.json").read_text().rstrip().rstrip("]")
    grown.write_text(text + ',{"id": 99, "time": 914218999, "sender": 1, "receiver": 3}]')
    more = ingest(store, TableSource(grown, mapping))
    assert (more.ingested, more.duplicates) == (1, 4)
    assert digest(store) != before


def test_an_interrupted_ingest_resumes(tmp_path: Path) -> None:
    whole = Store.open(f"sqlite:///{tmp_path}/whole.db")
    ingest(whole, TableSource(DATA / "calls.csv", DATA / "calls.toml"))
    parts = Store.open(f"sqlite:///{tmp_path}/parts.db")
    source = TableSource(DATA / "calls.csv", DATA / "calls.toml", batch_size=3)
    first: Batch = next(iter(source.batches(None)))
    write_batch(parts, SourceInfo.of(source), first)  # then the process dies
    report = ingest(parts, TableSource(DATA / "calls.csv", DATA / "calls.toml", batch_size=3))
    assert report.read == 11 - first.read
    assert digest(parts) == digest(whole)
    whole.close()
    parts.close()


# -- mapping errors: whole-file problems name the file and the key -------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[source]\nname = 'x'\n[nodes.a]\ncolumn = 'c'\nkind = 'persn'\n", "kind 'persn'"),
        ("[source]\nname = 'x'\n[nodes.a]\ncolum = 'c'\nkind = 'person'\n", "unknown key 'colum'"),
        ("[source]\nname = 'x'\n", "no [nodes.<role>]"),
        ("[nodes.a]\ncolumn = 'c'\nkind = 'person'\n", "'name' is required"),
        (
            "[source]\nname = 'x'\n[nodes.a]\ncolumn = 'c'\nkind = 'person'\n"
            "[link]\nkind = 'cites'\n",
            "src = 'src' names no",
        ),
        ("[source\nname = 'x'\n", "not a valid TOML mapping"),
    ],
)
def test_bad_mappings_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        Mapping.from_toml(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_column_missing_from_the_header_names_the_file(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("who,when\nada,1\n")
    mapping = Mapping.from_dict(
        {"source": {"name": "x"}, "nodes": {"a": {"column": "whom", "kind": "person"}}}
    )
    with pytest.raises(InputError, match=r"t\.csv: column 'whom' is not in the header"):
        list(TableSource(table, mapping).batches(None))
    with pytest.raises(InputError, match="no such file"):
        TableSource(tmp_path / "absent.csv", mapping)
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(InputError, match="set \\[source\\] format"):
        TableSource(tmp_path / "t.txt", mapping)


def test_cli_ingest_table(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/k.db"
    runner = CliRunner()
    args = [
        "ingest",
        "table",
        str(DATA / "actors.json"),
        "--map",
        str(EXAMPLES / "enron-actors.toml"),
    ]
    result = runner.invoke(app, [*args, "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ingested"] == 4
    bad = runner.invoke(
        app,
        ["ingest", "table", str(DATA / "ties.csv"), "--map", str(DATA / "ties.toml"), "--db", db],
    )
    assert bad.exit_code == 6
    assert "is not a number" in bad.stdout


# -- the real data sets ------------------------------------------------------------------------


def _shared(name: str) -> Path:
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the team's shared real data sets are not here")
    return folder


def test_real_enron_set(store: Store) -> None:
    """Every record of the real set maps; the store side is covered by the samples above
    (writing all 21,635 messages takes seconds: ``knotwork ingest table`` does it)."""
    folder = _shared("enron")
    source = TableSource(folder / "messages.json", EXAMPLES / "enron-messages.toml")
    batches = list(source.batches(None))
    records = [record for batch in batches for record in batch.records]
    assert len(records) == 21_635 and not any(batch.rejections for batch in batches)
    assert len({record.key for record in records}) == 21_635
    kinds = Counter(link.kind for record in records for link in record.links)
    assert kinds[LinkKind.AUTHORED] == 21_635
    assert kinds[LinkKind.MENTIONS] == 38_388  # one per receiver
    people = {n.id for r in records for n in r.nodes if n.kind is NodeKind.PERSON}
    assert not any(r.defects for r in records)
    actors = ingest(store, TableSource(folder / "actors.json", EXAMPLES / "enron-actors.toml"))
    assert (actors.read, actors.ingested, actors.rejected) == (156, 156, 0)
    counts = stats(store)
    assert counts["nodes"] == {"person": 156, "org": 16}
    with store.connect() as connection:
        known = {row[0] for row in connection.exec_driver_sql("SELECT id FROM nodes")}
    assert people <= known  # every sender and receiver is an actor


def test_real_krackhardt_set(store: Store, tmp_path: Path) -> None:
    folder = _shared("krackhardt")
    tables = {"Attributes": "people", "ReportTo": "reports", "Advice": "advice"}
    tables["Friendship"] = "friendship"
    for name, mapping in tables.items():
        path = folder / f"Krackhardt_HighTech__{name}.csv"
        report = ingest(store, TableSource(path, EXAMPLES / f"krackhardt-{mapping}.toml"))
        assert report.rejected == 0 and report.balanced
    counts = stats(store)
    assert counts["nodes"] == {"person": 21, "org": 5}
    assert counts["links"] == {
        LinkKind.MEMBER_OF.value: 21,
        LinkKind.REPORTS_TO.value: 20,
        LinkKind.CITES.value: 190,
        LinkKind.MENTIONS.value: 102,
    }
    # the CEO (A07, level 1) is the one manager who reports to nobody
    bosses = rows(
        store,
        "SELECT n.key FROM nodes n WHERE n.kind = 'person' AND n.id NOT IN "
        "(SELECT src FROM links WHERE kind = 'reports_to')",
    )
    assert bosses == [("table:krackhardt:A07",)]
    # the names file must sit beside the matrix
    alone = tmp_path / "Krackhardt_HighTech__Advice.csv"
    shutil.copy(folder / alone.name, alone)
    with pytest.raises(InputError, match="cannot read the file"):
        list(TableSource(alone, EXAMPLES / "krackhardt-advice.toml").batches(None))


# -- fuzz: mutated inputs give rejections or an InputError, never a crash ----------------------


@pytest.mark.parametrize(
    ("sample", "mapping"),
    [
        ("messages.json", EXAMPLES / "enron-messages.toml"),
        ("calls.csv", DATA / "calls.toml"),
        ("calls.jsonl", DATA / "calls.toml"),
        ("ties.csv", DATA / "ties.toml"),
    ],
)
def test_mutated_files_never_crash(tmp_path: Path, sample: str, mapping: Path) -> None:
    import random

    rng = random.Random(sample)
    original = (DATA / sample).read_bytes()
    shutil.copy(DATA / "names.csv", tmp_path / "names.csv")
    parsed = Mapping.from_toml(mapping)
    noise = [b"\x00", b"\xff", b'"', b",", b"\n", b"[", b"{", b"]", b"}", "🚀".encode(), b"\\"]
    for trial in range(150):
        data = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data) + 1)
            if rng.random() < 0.5:
                data[at:at] = rng.choice(noise)
            else:
                del data[at : at + rng.randint(1, 20)]
        if trial % 10 == 0:
            data = data[: rng.randrange(len(data) + 1)]
        path = tmp_path / sample
        path.write_bytes(bytes(data))
        try:
            batches = list(TableSource(path, parsed, batch_size=4).batches(None))
        except InputError as error:
            assert str(path) in str(error)
            continue
        for batch in batches:
            for record in batch.records:
                assert all("\x00" not in node.name for node in record.nodes)
            assert all(str(path) in r.place for r in batch.rejections)


@pytest.mark.postgres
def test_same_digest_on_sqlite_and_postgresql(
    sqlite_urls: Callable[[], str], postgres_urls: Callable[[], str]
) -> None:
    """NUL bytes, replaced UTF-8, emoji and right-to-left names store alike on both."""
    digests = []
    for url in (sqlite_urls(), postgres_urls()):
        store = Store.open(url)
        for data, mapping in [
            (DATA / "calls.csv", DATA / "calls.toml"),
            (DATA / "latin1.csv", DATA / "calls.toml"),
            (DATA / "messages.json", EXAMPLES / "enron-messages.toml"),
            (DATA / "actors.json", EXAMPLES / "enron-actors.toml"),
            (DATA / "ties.csv", DATA / "ties.toml"),
        ]:
            ingest(store, TableSource(data, mapping))
        digests.append(digest(store))
        store.close()
    assert digests[0] == digests[1]


def test_mapping_features(tmp_path: Path) -> None:
    table = tmp_path / "orders.csv"
    big = "x" * 200_000
    table.write_text(
        "order,at,customer,product,team\n"
        'o1,1614590100000,cu1,"[""p1"", """", ""p2""]",Field Sales\n'
        "o2,1000,cu2,p3,\n"
        f"o3,1614590100000,cu3,{big},x\n"
        "o4,1614590100000,cu4,[not json,x\n"
    )
    mapping = Mapping.from_dict(
        {
            "source": {"name": "shop", "uid": "order"},
            "time": {"column": "at", "format": "unix_ms"},
            "nodes": {
                "customer": {"column": "customer", "kind": "customer"},
                "product": {"column": "product", "kind": "thing", "each": True},
                "team": {"column": "team", "kind": "org", "optional": True, "template": "team {}"},
                "shop": {"value": "Main street", "kind": "org"},
            },
            "links": [
                {"src": "customer", "dst": "product", "kind": "uses"},
                {"src": "team", "dst": "customer", "kind": "offers"},
                {"src": "customer", "dst": "shop", "kind": "member_of"},
            ],
        }
    )
    [batch] = list(TableSource(table, mapping, now=1_700_000_000).batches(None))
    assert [(r.place.rsplit(":", 1)[1], r.reason) for r in batch.rejections] == [
        ("4", "unreadable CSV: field larger than field limit (131072)"),
        ("5", "column 'product': '[not json' is no JSON list"),
    ]
    first, second = batch.records
    assert {(n.kind.value, n.key, n.name) for n in first.nodes} == {
        ("customer", "table:shop:cu1", "cu1"),
        ("thing", "table:shop:p1", "p1"),
        ("thing", "table:shop:p2", "p2"),  # the empty element is skipped
        ("org", "table:shop:team Field Sales", "team Field Sales"),
        ("org", "table:shop:Main street", "Main street"),
    }
    assert sorted(link.kind.value for link in first.links) == [
        "member_of",
        "offers",
        "uses",
        "uses",
    ]
    assert {link.time for link in first.links} == {1_614_590_100}
    # no team: no org node and no link from it; a time in 1970 is kept but flagged
    assert sorted(link.kind.value for link in second.links) == ["member_of", "uses"]
    assert all(link.flags & Flag.TIME_SUSPECT and link.time == 1 for link in second.links)
