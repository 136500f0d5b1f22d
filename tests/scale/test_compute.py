"""``knotwork export parquet`` and ``knotwork compute``: both engines write the same results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.graph.sample import sample_records, store_of
from knotwork.graph.view import GraphView
from knotwork.services.authority import authority

runner = CliRunner()


@pytest.fixture()
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    store_of(sample_records(), url).close()
    return url


def run(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def scores(path: Path, column: str) -> dict[int, float]:
    table = pq.read_table(path)
    return dict(zip(table.column("id").to_pylist(), table.column(column).to_pylist(), strict=True))


def test_local_authority_file_is_the_services_ranking(db: str, tmp_path: Path) -> None:
    out = tmp_path / "a.parquet"
    summary = run("compute", "authority", "--out", str(out), "--db", db)
    assert summary["converged"] is True
    view = GraphView.build(store_of(sample_records()))
    expected = authority(view).vector
    got = scores(out, "score")
    assert set(got) == set(view.ids.tolist())
    assert sum(abs(got[int(i)] - float(v)) for i, v in zip(view.ids, expected, strict=True)) < 1e-5


def test_groups_by_components_and_propagation(db: str, tmp_path: Path) -> None:
    out = tmp_path / "g.parquet"
    summary = run("compute", "groups", "--method", "components", "--out", str(out), "--db", db)
    assert summary["groups"] == 1  # the sample graph is connected
    labels = scores(out, "group")
    assert len(set(labels.values())) == 1 and next(iter(labels.values())) in labels


def test_bad_engine_and_format_are_clear_errors(db: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["compute", "authority", "--engine", "dask", "--db", db])
    assert result.exit_code != 0 and "--engine dask" in result.output
    result = runner.invoke(app, ["export", "xml", "--out", str(tmp_path), "--db", db])
    assert result.exit_code != 0 and "csv or parquet" in result.output


def test_parquet_export_holds_no_personal_data(db: str, tmp_path: Path) -> None:
    out = tmp_path / "export"
    run("export", "parquet", "--out", str(out), "--db", db)
    raw = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"ada@example.org" not in raw and b"meta.json" not in raw
    assert (out / "meta.json").exists() and list((out / "links").glob("kind=*"))


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (java not on PATH)")
def test_spark_engine_writes_the_local_engines_scores(db: str, tmp_path: Path) -> None:
    local, remote = tmp_path / "local.parquet", tmp_path / "spark.parquet"
    short = ("--damping", "0.5", "--db", db)  # Spark takes seconds per iteration: a short walk
    run("compute", "authority", "--out", str(local), *short)
    summary = run("compute", "authority", "--engine", "spark", "--out", str(remote), *short)
    assert summary["engine"] == "spark" and summary["converged"] is True
    a, b = scores(local, "score"), scores(remote, "score")
    assert a.keys() == b.keys()
    assert float(np.sum([abs(a[k] - b[k]) for k in a])) < 2e-6
