"""The pseudonymized export, in every format (CSV, GraphML, GEXF, Parquet), holds no email
address, name or handle, and no unkeyed hash of one; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import networkx as nx
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.graph.sample import commit_record, sample_records
from knotwork.ingest.base import Batch
from knotwork.model import Alias, AliasKind, Link, LinkKind, Node, NodeKind, Record, make_id
from knotwork.store import schema
from knotwork.store.accounts import keyed_hash
from knotwork.store.engine import Store
from knotwork.store.erase import opt_out
from knotwork.store.export import FILES, FORMATS, SHORT, export
from knotwork.store.writer import SourceInfo, write_batch

KEY = b"export-test-key"
T = 1_600_000_000
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def _chat_record() -> Record:
    """A chat message by a person known by a handle and a display name, naming a colleague."""
    grace = Node.person("grace.hopper@navy.example", "Grace Hopper")
    message = Node.make(NodeKind.MESSAGE, "slack:general:1", "cobol review", T)
    return Record(
        "slack",
        message.id,
        "general/1",
        [grace, message],
        [Link(make_id("l", "1"), grace.id, message.id, LinkKind.AUTHORED, T)],
        [
            Alias(AliasKind.HANDLE, "amazing_grace", grace.id),
            Alias(AliasKind.EMAIL, grace.key, grace.id),
            Alias(AliasKind.NAME, "Grace Hopper", grace.id),
        ],
        {message.id: "ping @amazing_grace and ada@example.org about lib/eal/grace_hopper.c"},
    )


def _store(store: Store) -> Store:
    records = [
        *sample_records(),
        commit_record(
            "c0ffee",
            "grace.hopper@navy.example",
            T,
            ["lib/eal/grace_hopper.c", "doc/ada@example.org.txt"],
            "eal: compiler fix",
            reviews=["bob@example.org"],
        ),
        _chat_record(),
    ]
    write_batch(store, SourceInfo("git", "git:export", "export"), Batch(records, [], {}))
    return store


def _secrets(store: Store) -> list[str]:
    """Every alias, person key and person name in the store: none may leave pseudonymized."""
    nodes, aliases = schema.nodes, schema.aliases
    with store.connect() as connection:
        values = list(connection.execute(select(aliases.c.value)).scalars())
        people = connection.execute(
            select(nodes.c.key, nodes.c.name).where(nodes.c.kind == NodeKind.PERSON.value)
        ).all()
    words = {*values, *(k for k, _ in people), *(n for _, n in people if n)}
    words |= {v.split("@")[0] for v in words if "@" in v}  # local parts: handles too
    for word in list(words):  # a name of several parts written with any separator
        parts = re.split(r"[\s._-]+", word.split("@")[0])
        if len(parts) >= 2:
            words |= {sep.join(parts) for sep in ("", "_", "-", ".", " ")}
    return sorted(w for w in words if len(w) >= 3)


def _unkeyed(value: str) -> list[str]:
    """Hashes of ``value`` anyone could compute: hex digests (any case of the value) and the
    node id of a person with that key (itself an unkeyed hash)."""
    digests = []
    for variant in {value, value.lower()}:
        for algorithm in ("md5", "sha1", "sha256"):
            digest = hashlib.new(algorithm, variant.encode()).hexdigest()
            digests += [digest, digest[:16], digest[:12]]
        digests.append(str(Node.node_id(NodeKind.PERSON, variant)))
    return digests


def _text(files: list[Path]) -> str:
    """Everything the files hold, decoded: Parquet as its rows, the rest as text."""
    parts = []
    for path in files:
        if path.suffix == ".parquet":
            parts.append(repr(pq.read_table(path).to_pylist()))
        else:
            parts.append(path.read_text())
    return "\n".join(parts)


@pytest.mark.parametrize("form", FORMATS)
def test_pseudonymized_export_holds_no_identity_or_unkeyed_hash(
    store: Store, tmp_path: Path, form: str
) -> None:
    _store(store)
    secrets = _secrets(store)
    expected = {"amazing_grace", "Grace Hopper", "grace.hopper@navy.example", "grace_hopper"}
    assert expected <= set(secrets)
    files = export(store, tmp_path, key=KEY, formats=[form])
    assert [f.name for f in files] == list(FILES[form]) and all(f.stat().st_size for f in files)
    text = _text(files)
    lowered = text.lower()
    for secret in secrets:
        if len(secret) > SHORT:
            assert secret.lower() not in lowered, (form, secret)
        else:  # short ones as whole tokens: "ada" may stay inside "adapter"
            assert not re.search(rf"(?<![^\W_]){re.escape(secret.lower())}(?![^\W_])", lowered)
        for digest in _unkeyed(secret):
            assert digest not in lowered, (form, secret, digest)
    assert not EMAIL.search(text), form
    # what an export is for is still there: the file paths, with the person's name replaced
    assert "lib/eal/" in text and "doc/" in text


def test_every_format_holds_the_same_graph(store: Store, tmp_path: Path) -> None:
    _store(store)
    export(store, tmp_path, key=KEY, formats=["all"])
    with (tmp_path / "nodes.csv").open() as handle:
        nodes = {r["id"]: r for r in csv.DictReader(handle)}
    with (tmp_path / "links.csv").open() as handle:
        links = sorted((r["src"], r["dst"], r["kind"]) for r in csv.DictReader(handle))
    with store.connect() as connection:
        stored = len(connection.execute(schema.nodes.select()).all())
    assert len(nodes) == stored and len(links) > 10
    for reader in (nx.read_graphml, nx.read_gexf):
        graph = reader(tmp_path / ("graph.graphml" if reader is nx.read_graphml else "graph.gexf"))
        assert set(graph.nodes) == set(nodes), reader
        edges = sorted((str(a), str(b), str(d["kind"])) for a, b, d in graph.edges(data=True))
        assert edges == links, reader
    table = pq.read_table(tmp_path / "links.parquet").to_pylist()
    assert sorted((r["src"], r["dst"], r["kind"]) for r in table) == links
    kinds = {r["id"]: r["kind"] for r in pq.read_table(tmp_path / "nodes.parquet").to_pylist()}
    assert kinds == {i: r["kind"] for i, r in nodes.items()}


def test_opted_out_people_and_their_links_are_not_exported(store: Store, tmp_path: Path) -> None:
    _store(store)
    before = export(store, tmp_path / "before", key=KEY, formats=["csv"])
    gone = opt_out(store, "amazing_grace")
    after = export(store, tmp_path / "after", key=KEY, formats=["csv"])
    hashed = "h" + keyed_hash(f"export:{gone}", KEY)[:16]
    assert hashed in _text(before) and hashed not in _text(after)
    with after[1].open() as handle:
        ends = {e for r in csv.DictReader(handle) for e in (r["src"], r["dst"])}
    assert hashed not in ends


def test_cli_export_formats_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOTWORK_SECRET_KEY", KEY.decode())
    db = f"sqlite:///{tmp_path}/k.db"
    store = _store(Store.open(db))
    store.close()
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            *("export", "--pseudonymize", "--format", "gexf", "--format", "parquet"),
            *("--out", str(out), "--db", db),
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["graph.gexf", "links.parquet", "nodes.parquet"]
    assert "grace" not in _text(sorted(out.iterdir())).lower()
    bad = runner.invoke(app, ["export", "--format", "xml", "--out", str(out), "--db", db])
    assert bad.exit_code != 0 and "--format" in bad.output and "xml" in bad.output
