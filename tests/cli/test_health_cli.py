"""``knotwork health | report | me`` end to end on a store file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.graph.sample import sample_store

runner = CliRunner()


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/k.db"
    sample_store(url).close()
    return url


def test_health_json_lists_every_metric_with_explanation(tmp_path: Path) -> None:
    url = _store(tmp_path)
    result = runner.invoke(app, ["health", "--db", url, "--json", "--k-min", "3"])
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    names = [m["name"] for m in value["metrics"]]
    assert "truck_factor" in names and "growth" in names and "walls_vs_work" in names
    assert all(m["explanation"] for m in value["metrics"])
    assert value["k_min"] == 3
    human = runner.invoke(app, ["health", "--db", url])
    assert human.exit_code == 0 and "truck factor" in human.output


def test_health_refuses_k_min_two(tmp_path: Path) -> None:
    result = runner.invoke(app, ["health", "--db", _store(tmp_path), "--k-min", "2"])
    assert result.exit_code != 0
    assert "at least 3" in result.output


def test_report_writes_one_html_file(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--out", str(out), "--db", _store(tmp_path)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_me_shows_a_persons_own_metrics(tmp_path: Path) -> None:
    url = _store(tmp_path)
    result = runner.invoke(app, ["me", "--as", "ada@example.org", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    assert value["person"]["key"] == "ada@example.org"
    assert value["authority"]["rank"] == 2 and value["knowledge"]["areas"] == ["drivers"]
    missing = runner.invoke(app, ["me", "--as", "nobody@example.org", "--db", url])
    assert missing.exit_code != 0
