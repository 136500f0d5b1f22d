"""``knotwork import scores``: export -> compute -> import -> ``top`` serves the imported scores
while they are fresh, on SQLite and PostgreSQL; stale or bad result files are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from apifactory import Api
from knotwork.cli import app
from knotwork.graph.sample import DAY, T0, commit_record, store_of
from knotwork.ingest.base import Batch
from knotwork.model import Record
from knotwork.scale.jobs import compute_authority
from knotwork.scale.scores import import_scores, imported_groups
from knotwork.services.authority import top_people
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

runner = CliRunner()
PEOPLE = [f"dev{i}@example.org" for i in range(8)]


def history(commits: int, seed: int = 1) -> list[Record]:
    """Commits by eight people on twelve files, with reviews: a small real-looking history."""
    rng = np.random.default_rng(seed)
    records = []
    for n in range(commits):
        author = PEOPLE[int(rng.integers(len(PEOPLE)))]
        reviewer = PEOPLE[int(rng.integers(len(PEOPLE)))]
        files = [f"src/m{int(f)}.c" for f in rng.choice(12, size=2, replace=False)]
        records.append(
            commit_record(
                f"c{seed}-{n}", author, T0 + n * DAY, files, f"Change {n}", reviews=[reviewer]
            )
        )
    return records


def run(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def fails(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code != 0, result.output
    return " ".join(result.output.split())


@pytest.fixture()
def db(store_url: str) -> str:
    store_of(history(40), store_url).close()
    return store_url


def computed(db: str, tmp_path: Path, *extra: str) -> Path:
    """Export the store as Parquet and compute authority from the export (damping 0.6, so
    the imported scores differ from the ones ``top`` computes itself with 0.85)."""
    export, out = tmp_path / "export", tmp_path / "authority.parquet"
    run("export", "parquet", "--out", str(export), "--db", db)
    run(
        "compute",
        "authority",
        "--input",
        str(export),
        "--damping",
        "0.6",
        "--out",
        str(out),
        *extra,
    )
    return out


def file_scores(path: Path) -> dict[int, float]:
    table = pq.read_table(path)
    return dict(zip(table.column("id").to_pylist(), table.column("score").to_pylist(), strict=True))


def test_round_trip_top_people_serves_the_imported_scores(db: str, tmp_path: Path) -> None:
    before = run("top", "people", "--db", db)
    assert {row["computed_by"] for row in before} == {"local engine"}
    out = computed(db, tmp_path)
    summary = run("import", "scores", str(out), "--db", db)
    assert summary[0]["kind"] == "authority" and summary[0]["rows"] == len(file_scores(out))
    served = run("top", "people", "--limit", "50", "--db", db)
    expected = file_scores(out)
    assert {row["computed_by"] for row in served} == {"local engine (imported)"}
    assert all(row["score"] == expected[row["id"]] for row in served)
    assert [row["score"] for row in served] == sorted((r["score"] for r in served), reverse=True)
    # the imported (damping 0.6) scores are not what top computes itself (0.85)
    assert any(abs(a["score"] - b["score"]) > 1e-6 for a, b in zip(served, before, strict=False))
    items = run("top", "items", "--kind", "file", "--db", db)
    assert items and all(row["score"] == expected[row["id"]] for row in items)
    # a moment asked for explicitly is not the moment the scores were computed for
    later = run("top", "people", "--as-of", "2020-01-20", "--db", db)
    assert "not used" in later[0]["computed_by"] and "as of" in later[0]["computed_by"]
    human = runner.invoke(app, ["top", "people", "--db", db])
    assert "authority computed by: local engine (imported)" in human.output


def test_a_store_changed_after_the_import_is_reported_and_ranked_locally(
    db: str, tmp_path: Path
) -> None:
    run("import", "scores", str(computed(db, tmp_path)), "--db", db)
    store = Store.open(db)
    try:
        write_batch(store, SourceInfo("git", "git:more", "more"), Batch(history(3, seed=2), [], {}))
        rows = top_people(store, limit=50)
    finally:
        store.close()
    assert {row["computed_by"] for row in rows} == {rows[0]["computed_by"]} and rows[0][
        "computed_by"
    ].startswith("local engine (imported local engine scores not used:")
    assert "the store changed since the export" in rows[0]["computed_by"]
    human = runner.invoke(app, ["top", "people", "--db", db])
    assert "not used: the store changed" in " ".join(human.output.split())


def test_stale_results_are_refused_at_import(db: str, tmp_path: Path) -> None:
    out = computed(db, tmp_path)
    store = Store.open(db)
    try:
        write_batch(store, SourceInfo("git", "git:more", "more"), Batch(history(2, seed=3), [], {}))
    finally:
        store.close()
    message = fails("import", "scores", str(out), "--db", db)
    assert "stale results" in message and "authority.parquet" in message
    assert {row["computed_by"] for row in run("top", "people", "--db", db)} == {"local engine"}


def test_groups_round_trip(db: str, tmp_path: Path) -> None:
    out = tmp_path / "groups.parquet"
    run("compute", "groups", "--method", "components", "--out", str(out), "--db", db)
    assert run("import", "scores", str(out), "--db", db)[0]["kind"] == "groups"
    table = pq.read_table(out)
    store = Store.open(db)
    try:
        labels = imported_groups(store)
    finally:
        store.close()
    assert labels == dict(
        zip(table.column("id").to_pylist(), table.column("group").to_pylist(), strict=True)
    )


def rewrite(source: Path, target: Path, change: Any) -> Path:
    """``source`` with its table changed by ``change``, keeping the Knotwork metadata."""
    table = pq.read_table(source)
    pq.write_table(change(table).replace_schema_metadata(table.schema.metadata), target)
    return target


def test_bad_result_files_name_the_file_and_row(db: str, tmp_path: Path) -> None:
    out = computed(db, tmp_path)
    n = pq.read_table(out).num_rows

    def column(table: pa.Table, name: str, values: Any) -> pa.Table:
        return table.set_column(table.column_names.index(name), name, values)

    unknown = rewrite(
        out,
        tmp_path / "unknown.parquet",
        lambda t: column(t, "id", pa.array([*t.column("id").to_pylist()[:-1], 12345], pa.int64())),
    )
    message = fails("import", "scores", str(unknown), "--db", db)
    assert f"unknown.parquet, row {n}" in message and "id 12345 is not a node" in message

    twice = rewrite(
        out,
        tmp_path / "twice.parquet",
        lambda t: column(t, "id", pa.array([*t.column("id").to_pylist()[:-1], t["id"][0].as_py()])),
    )
    message = fails("import", "scores", str(twice), "--db", db)
    assert f"twice.parquet, row {n}" in message and "appears twice (first at row 1)" in message

    text = rewrite(
        out,
        tmp_path / "text.parquet",
        lambda t: column(t, "score", pa.array([str(v) for v in t.column("score").to_pylist()])),
    )
    message = fails("import", "scores", str(text), "--db", db)
    assert "text.parquet" in message and "'score' holds string" in message

    negative = rewrite(
        out,
        tmp_path / "negative.parquet",
        lambda t: column(t, "score", pa.array([-1.0, *t.column("score").to_pylist()[1:]])),
    )
    assert "negative.parquet, row 1: score -1.0" in fails(
        "import", "scores", str(negative), "--db", db
    )

    missing = rewrite(out, tmp_path / "missing.parquet", lambda t: t.drop_columns(["score"]))
    message = fails("import", "scores", str(missing), "--db", db)
    assert "missing.parquet" in message and "expected the columns id and one of score" in message

    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(out).replace_schema_metadata(None), bare)
    assert "no Knotwork metadata" in fails("import", "scores", str(bare), "--db", db)
    assert "no such file" in fails("import", "scores", str(tmp_path / "nope.parquet"), "--db", db)
    # nothing was imported by the refused files
    assert {row["computed_by"] for row in run("top", "people", "--db", db)} == {"local engine"}


def test_the_api_serves_imported_scores(api: Api, tmp_path: Path) -> None:
    out = tmp_path / "authority.parquet"
    compute_authority(api.store, out, damping=0.6)
    import_scores(api.store, out)
    answer = api.client.get("/api/v1/top/people", headers=api.as_("carol"))
    assert answer.status_code == 200, answer.text
    rows = answer.json()["items"]
    expected = file_scores(out)
    assert rows and all(row["computed_by"] == "local engine (imported)" for row in rows)
    assert all(row["score"] == expected[row["id"]] for row in rows)


def test_erasing_a_person_erases_their_imported_score(db: str, tmp_path: Path) -> None:
    run("import", "scores", str(computed(db, tmp_path)), "--db", db)
    person = run("top", "people", "--db", db)[0]
    run("erase", person["key"], "--yes", "--db", db)
    store = Store.open(db)
    try:
        with store.connect() as connection:
            left = connection.execute(
                select(schema.scores.c.node).where(schema.scores.c.node == person["id"])
            ).all()
        assert left == [] and person["id"] not in {row["id"] for row in top_people(store)}
    finally:
        store.close()


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (java not on PATH)")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_spark_results_from_an_export_are_served(db: str, tmp_path: Path) -> None:
    export, out = tmp_path / "export", tmp_path / "spark.parquet"
    run("export", "parquet", "--out", str(export), "--db", db)
    # no store on the cluster: the job reads only the export (damping 0.5: a short walk)
    summary = run(
        "compute",
        "authority",
        "--engine",
        "spark",
        "--input",
        str(export),
        "--damping",
        "0.5",
        "--out",
        str(out),
    )
    assert summary["engine"] == "spark" and summary["converged"] is True
    assert run("import", "scores", str(out), "--db", db)[0]["engine"] == "spark"
    served = run("top", "people", "--limit", "50", "--db", db)
    assert {row["computed_by"] for row in served} == {"spark (imported)"}
    expected = file_scores(out)
    assert all(row["score"] == expected[row["id"]] for row in served)
