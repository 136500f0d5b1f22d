"""``who-knows``, ``top`` and ``explain`` end to end on a store file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.graph.sample import sample_store

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('ask') / 'k.db'}"
    sample_store(url).close()
    return url


def run_json(*args: str) -> tuple[int, object]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_who_knows_a_path(db: str) -> None:
    code, answer = run_json("who-knows", "drivers/net/ice/", "--db", db)
    assert code == 0 and isinstance(answer, dict)
    assert [e["key"] for e in answer["experts"]] == ["bob@example.org", "ada@example.org"]
    assert answer["terms"] == [{"term": "drivers/net/ice/", "kind": "path", "matched": 2}]
    evidence = answer["experts"][1]["evidence"][0]
    assert evidence["links"] == ["authored"] and evidence["name"].startswith("net/ice")


def test_who_knows_text_and_as_of(db: str) -> None:
    code, answer = run_json("who-knows", "link", "state", "--as-of", "2020-06-01", "--db", db)
    assert code == 0 and isinstance(answer, dict)
    assert answer["as_of"] == 1_590_969_600
    assert {e["key"] for e in answer["experts"]} == {"ada@example.org", "bob@example.org"}


def test_human_output_shows_evidence(db: str) -> None:
    result = runner.invoke(app, ["who-knows", "drivers/net/ice/ice.c", "--db", db])
    assert result.exit_code == 0
    assert "Ada Lovelace" in result.output and "net/ice: fix link state" in result.output


def test_top_people_and_items(db: str) -> None:
    code, people = run_json("top", "people", "--db", db)
    assert code == 0 and isinstance(people, list)
    assert [p["key"] for p in people] == ["bob@example.org", "ada@example.org"]
    code, files = run_json("top", "items", "--kind", "file", "--limit", "1", "--db", db)
    assert code == 0 and isinstance(files, list)
    assert [f["key"] for f in files] == ["drivers/net/ice/ice.c"]
    result = runner.invoke(app, ["top", "people", "--db", db])
    assert result.exit_code == 0 and "Bob Baker" in result.output


def test_explain(db: str) -> None:
    code, why = run_json("explain", "Ada Lovelace", "drivers/net/ice/", "--db", db)
    assert code == 0 and isinstance(why, dict)
    assert why["rank"] == 2 and why["key"] == "ada@example.org"
    result = runner.invoke(app, ["explain", "ada@example.org", "ice", "--db", db])
    assert result.exit_code == 0 and "mass by link" in result.output


def test_errors_map_to_exit_codes(db: str) -> None:
    assert runner.invoke(app, ["who-knows", "x", "--as-of", "June", "--db", db]).exit_code == 3
    assert runner.invoke(app, ["explain", "nobody@x.org", "x", "--db", db]).exit_code != 0
    assert runner.invoke(app, ["top", "items", "--kind", "blob", "--db", db]).exit_code == 3
