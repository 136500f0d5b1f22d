"""``groups``, ``groups history`` and ``team`` end to end on a store file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from groupsfactory import T0, work_records
from knotwork.cli import app
from knotwork.ingest.base import Batch
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('groups') / 'k.db'}"
    store = Store.open(url)
    write_batch(store, SourceInfo("git", "git:teams", "teams"), Batch(work_records(), [], {}))
    store.close()
    return url


def test_groups_json_and_text(db: str) -> None:
    result = runner.invoke(app, ["groups", "--as-of", "2021-08-01", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["groups"]) == 3 and data["as_of"] > T0
    assert {g["paths"][0] for g in data["groups"]} == {"drivers/net/", "lib/mem/", "doc/guides/"}
    assert len(data["membership"]) == 18
    text = runner.invoke(app, ["groups", "--as-of", "2021-08-01", "--k-min", "7", "--db", db])
    assert text.exit_code == 0
    assert "3 groups of 18 people" in text.stdout and "fewer than 7 people" in text.stdout


def test_history_and_team(db: str) -> None:
    result = runner.invoke(app, ["groups", "history", "--every", "90d", "--k-min", "4", "--db", db])
    assert result.exit_code == 0, result.output
    assert "formed" in result.stdout and "merged" in result.stdout
    proposal = runner.invoke(
        app, ["team", "drivers/net/ lib/mem/", "--size", "3", "--db", db, "--json"]
    )
    assert proposal.exit_code == 0, proposal.output
    members = json.loads(proposal.stdout)["members"]
    assert len(members) == 3 and members[0]["hops"] == 0
    text = runner.invoke(app, ["team", "drivers/net/", "-k", "2", "--db", db])
    assert "relevant items" in text.stdout and "hops from the team" in text.stdout


def test_errors(db: str) -> None:
    assert runner.invoke(app, ["groups", "history", "--every", "soon", "--db", db]).exit_code != 0
    assert runner.invoke(app, ["groups", "--k-min", "2", "--db", db]).exit_code != 0
    assert runner.invoke(app, ["team", "nothing/here/", "--db", db]).exit_code != 0
