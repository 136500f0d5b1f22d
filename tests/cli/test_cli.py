"""The CLI end to end on a small real repository: ingest, stats, person, digest, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gitfactory import build_history, git
from knotwork.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "repo"
    build_history(path, commits=60)
    return path


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'k.db'}"


def invoke(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_ingest_then_stats_person_digest(repo: Path, db: str) -> None:
    code, report = invoke("ingest", "git", str(repo), "--db", db)
    assert code == 0
    assert report["read"] == report["ingested"] == 60
    assert report["rejected"] == report["duplicates"] == 0

    code, stats = invoke("stats", "--db", db)
    assert code == 0
    assert stats["nodes"]["commit"] == 60
    assert stats["nodes"]["person"] == 8
    assert stats["links"]["authored"] == 60
    assert stats["links"]["reviews"] == 60
    assert stats["time_span"]["first"] == 1_262_304_000
    assert stats["sources"][0]["kind"] == "git"

    code, person = invoke("person", "Aiko Tanaka", "--db", db)
    assert code == 0
    assert person["key"] == "aiko.tanaka@example.jp"
    assert {"kind": "email", "value": "aiko.tanaka@example.jp"} in person["aliases"]
    assert person["links"]["authored"] >= 1
    assert person["files"] and person["files"][0]["count"] >= 1
    assert all(c["key"] != person["key"] for c in person["coworkers"])

    code, first = invoke("digest", "--db", db)
    code, again = invoke("ingest", "git", str(repo), "--db", db)
    assert again["read"] == 0
    assert invoke("digest", "--db", db)[1] == first


def test_the_store_url_comes_from_the_environment(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KNOTWORK_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert invoke("ingest", "git", str(repo))[0] == 0
    assert (tmp_path / "env.db").exists()


def test_not_a_repository_is_a_clear_error(tmp_path: Path, db: str) -> None:
    (tmp_path / "notes").mkdir()
    result = runner.invoke(app, ["ingest", "git", str(tmp_path / "notes"), "--db", db])
    assert result.exit_code == 3
    assert str(tmp_path / "notes") in result.stderr
    code, error = invoke("ingest", "git", str(tmp_path / "notes"), "--db", db)
    assert code == 3
    assert error["error"] == "NotARepositoryError"
    assert error["place"] == str(tmp_path / "notes")


def test_empty_repository_is_a_clear_error(tmp_path: Path, db: str) -> None:
    git(tmp_path, "init", "-q", "empty")
    code, error = invoke("ingest", "git", str(tmp_path / "empty"), "--db", db)
    assert code == 3
    assert error["error"] == "EmptySourceError"
    assert "no commits" in error["reason"]


def test_unknown_person_and_bad_url(db: str) -> None:
    code, error = invoke("person", "nobody@example.org", "--db", db)
    assert (code, error["error"]) == (5, "NotFoundError")
    code, error = invoke("stats", "--db", "mysql://localhost/x")
    assert (code, error["error"]) == (2, "ConfigError")


def test_human_output_names_counts(repo: Path, db: str) -> None:
    result = runner.invoke(app, ["ingest", "git", str(repo), "--db", db])
    assert result.exit_code == 0
    assert "ingested" in result.stdout and "60" in result.stdout
    result = runner.invoke(app, ["stats", "--db", db])
    assert "commit" in result.stdout and "authored" in result.stdout
