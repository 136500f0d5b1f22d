"""``knotwork identities suggest | merge | split | list`` end to end on a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.store.engine import Store
from recordfactory import DAY, JONAS, T0, Commit, Who, records, write

runner = CliRunner()
LENA = Who("Lena Vogt", "lena.vogt@fernwood.dev")
LENA_LIST = Who("lvogt", "lena.vogt@lists.fernwood.dev")


@pytest.fixture()
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    store = Store.open(url)
    write(store, records())
    write(
        store,
        [
            Commit("docs: faq", LENA, T0 + 50 * DAY, {"FAQ.md": (40, 0)}).record(),
            Commit("docs: typo", LENA_LIST, T0 + 51 * DAY, {"FAQ.md": (1, 1)}).record(),
        ],
    )
    store.close()
    return url


def invoke(*args: str) -> tuple[int, Any]:
    result = runner.invoke(app, ["identities", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_suggest_merge_list_split(db: str) -> None:
    digest_before = runner.invoke(app, ["digest", "--db", db, "--json"]).stdout
    code, found = invoke("suggest", "--db", db)
    assert code == 0
    assert [(s["a"]["key"], s["b"]["key"]) for s in found] == [(LENA.key, LENA_LIST.key)] or [
        (s["b"]["key"], s["a"]["key"]) for s in found
    ] == [(LENA.key, LENA_LIST.key)]
    assert found[0]["evidence"] == ["name 'Lena Vogt' matches email 'lena.vogt@lists.fernwood.dev'"]

    code, done = invoke("merge", LENA.email, "lvogt", "--db", db)
    assert code == 0
    assert done["kept"]["key"] == LENA.key and done["merged"]["key"] == LENA_LIST.key
    assert done["evidence"] == "explicit merge"
    assert invoke("suggest", "--db", db) == (0, [])

    code, listed = invoke("list", LENA_LIST.email, "--db", db)
    assert code == 0
    assert listed["key"] == LENA.key
    assert {"kind": "email", "value": LENA_LIST.email} in listed["aliases"]
    assert [m["merged"] for m in listed["merges"]] == [LENA_LIST.key]

    code, undone = invoke("split", LENA_LIST.email, "--db", db)
    assert code == 0
    assert undone["split"] == LENA_LIST.id
    assert runner.invoke(app, ["digest", "--db", db, "--json"]).stdout == digest_before
    # human-readable output names the merge as split
    text = runner.invoke(app, ["identities", "list", LENA.key, "--db", db]).stdout
    assert "split" in text and LENA_LIST.key in text


def test_errors_exit_non_zero_with_a_clear_message(db: str) -> None:
    code, error = invoke("merge", JONAS.email, "Jonas Becker", "--db", db)
    assert code != 0
    assert "already one person" in error["reason"]
    code, error = invoke("split", JONAS.email, "--db", db)
    assert code != 0
    assert "not merged" in error["reason"]
    code, error = invoke("list", "nobody@nowhere.org", "--db", db)
    assert code != 0
    assert error["place"] == "nobody@nowhere.org"
    text = runner.invoke(app, ["identities", "suggest", "--db", db]).stdout
    assert "lena.vogt" in text


def test_reject_and_link(db: str) -> None:
    code, done = invoke("reject", "Lena Vogt", "lvogt", "--db", db)
    assert code == 0
    assert {done["a"], done["b"]} == {LENA.id, LENA_LIST.id}
    assert invoke("suggest", "--db", db) == (0, [])
    # the factory's people hold no shared platform handle: nothing to link
    assert invoke("link", "--db", db) == (0, [])
    assert "nothing to merge" in runner.invoke(app, ["identities", "link", "--db", db]).stdout
