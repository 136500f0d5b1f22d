"""``post``, ``need``, ``offer``, ``commit``, ``match``, ``propose``, ``affected``, ``respond``,
``decision(s)``, ``participation`` and ``questions`` end to end on a store file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.graph.sample import sample_store

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Any) -> str:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    sample_store(url).close()
    return url


def run_json(*args: str) -> tuple[int, Any]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_market_end_to_end(db: str) -> None:
    code, made = run_json(
        "post",
        "ice hotplug notes",
        "--as",
        "ada@example.org",
        "--cites",
        "drivers/net/ice/ice.c",
        "--db",
        db,
    )
    assert code == 0 and made["kind"] == "post"
    code, wanted = run_json("need", "help with ice hotplug", "--as", "ada@example.org", "--db", db)
    code, given = run_json(
        "offer", "ice reviews", "--as", "bob@example.org", "--capacity", "2h/week", "--db", db
    )
    assert code == 0
    code, ranked = run_json("match", str(wanted["id"]), "--db", db)
    assert code == 0 and ranked[0]["key"] == "bob@example.org" and ranked[0]["reasons"]
    code, needs = run_json("match", "--offers", str(given["id"]), "--db", db)
    assert [n["need"] for n in needs] == [wanted["id"]]
    code, done = run_json(
        "commit",
        str(given["id"]),
        str(wanted["id"]),
        "--as",
        "bob@example.org",
        "--hours",
        "2",
        "--db",
        db,
    )
    assert code == 0 and done["left"] == 0
    code, error = run_json(
        "commit",
        str(given["id"]),
        str(wanted["id"]),
        "--as",
        "bob@example.org",
        "--hours",
        "1",
        "--db",
        db,
    )
    assert code == 3 and "left" in error["reason"]
    code, _ = run_json("close", str(wanted["id"]), "--as", "ada@example.org", "--db", db)
    assert code == 0


def test_decisions_end_to_end(db: str) -> None:
    code, made = run_json(
        "propose",
        "Move ice to the new API",
        "--as",
        "ada@example.org",
        "--affects",
        "drivers/net/ice/",
        "--closes",
        "2099-01-01",
        "--db",
        db,
    )
    assert code == 0
    pid = str(made["id"])
    code, people = run_json("affected", pid, "--db", db)
    assert {p["key"] for p in people} == {"ada@example.org", "bob@example.org"}
    assert run_json("respond", pid, "agree", "--as", "bob@example.org", "--db", db)[0] == 0
    code, error = run_json("respond", pid, "agree", "--as", "bob@example.org", "--db", db)
    assert code == 3 and "duplicate" in error["reason"]
    code, error = run_json("respond", pid, "agree", "--as", "nobody@x.org", "--db", db)
    assert code == 5
    code, shown = run_json("decision", pid, "--db", db)
    assert shown["status"] == "open" and shown["responded"] == 1 and len(shown["reminders"]) == 1
    code, listed = run_json("decisions", "--open", "--db", db)
    assert [d["id"] for d in listed] == [made["id"]]
    code, index = run_json("participation", "--person", "bob@example.org", "--db", db)
    assert [(p["responded"], p["affected"]) for p in index["people"]] == [(1, 1)]
    code, past = run_json(
        "propose",
        "x",
        "--as",
        "ada@example.org",
        "--affects",
        "drivers/net/ice/",
        "--closes",
        "2001-01-01",
        "--db",
        db,
    )
    assert code == 3 and "past" in past["reason"]
    code, answers = run_json("questions", "--as", "ada@example.org", "--db", db)
    assert code == 0 and set(answers) == {"need_to_know", "owe", "talk_to"}
    human = runner.invoke(app, ["decision", pid, "--db", db])
    assert human.exit_code == 0 and "turnout" in human.output
