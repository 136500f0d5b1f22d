"""Resolving aliases to people and describing a person, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from knotwork.errors import InputError, NotFoundError
from knotwork.store.engine import Store
from knotwork.store.identity import profile, resolve
from recordfactory import (
    DAY,
    DEPENDABOT,
    JONAS,
    MARIA,
    PRIYA,
    T0,
    TOMASZ,
    Commit,
    Who,
    records,
    write,
)

ALEX_WORK = Who("Alex Kim", "alex.kim@fernwood.dev")
ALEX_HOME = Who("Alex Kim", "akim@fastmail.com")


@pytest.fixture()
def fernwood(store: Store) -> Store:
    """The store with fernwood's history, and two different people called Alex Kim."""
    write(store, records())
    write(
        store,
        [
            Commit(
                "ci: cache pip downloads", ALEX_WORK, T0 + 44 * DAY, {"ci.yml": (6, 0)}
            ).record(),
            Commit("typo in README", ALEX_HOME, T0 + 45 * DAY, {"README.md": (1, 1)}).record(),
        ],
    )
    return store


@pytest.mark.parametrize(
    ("alias", "who"),
    [
        ("jonas.becker@posteo.de", JONAS),
        ("Jonas.Becker@Posteo.DE", JONAS),
        ("  priya@raman.io ", PRIYA),
        # a second address, stored as git showed it (mixed case)
        ("m.garcia@uni-leipzig.de", MARIA),
        ("M.Garcia@Uni-Leipzig.de", MARIA),
        ("mgarcia@github", MARIA),
        ("name:tomasz nowak", TOMASZ),
        ("Tomasz Nowak", TOMASZ),
        ("TOMASZ NOWAK", TOMASZ),
        ("maría garcía", MARIA),
        ("dependabot[bot]", DEPENDABOT),
    ],
)
def test_resolve(fernwood: Store, alias: str, who: Who) -> None:
    assert resolve(fernwood, alias) == who.id


@pytest.mark.parametrize("name", ["Émilie Dubois", "Łukasz Wiśniewski", "Øystein Ødegård"])
def test_a_name_with_non_ascii_capitals_is_found_as_spelled(fernwood: Store, name: str) -> None:
    who = Who(name, "")  # no address: the name is all there is
    write(fernwood, [Commit(f"docs: thanks {name}", who, T0 + 47 * DAY, {}).record()])
    assert resolve(fernwood, name) == who.id
    assert resolve(fernwood, f"  {name}\t") == who.id


def test_an_ambiguous_name_names_the_candidates(fernwood: Store) -> None:
    with pytest.raises(InputError) as caught:
        resolve(fernwood, "alex kim")
    assert caught.value.place == "alex kim"
    assert caught.value.reason == (
        "this alias names several people: akim@fastmail.com, alex.kim@fernwood.dev"
    )
    # each of them is still found by address
    assert resolve(fernwood, "akim@fastmail.com") == ALEX_HOME.id
    assert resolve(fernwood, "alex.kim@fernwood.dev") == ALEX_WORK.id


@pytest.mark.parametrize("alias", ["nobody@fernwood.dev", "Grace Hopper", "", "name:"])
def test_an_unknown_alias_is_not_found(fernwood: Store, alias: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        resolve(fernwood, alias)
    assert caught.value.place == alias


def test_profile_of_an_author_and_reviewer(fernwood: Store) -> None:
    found = profile(fernwood, resolve(fernwood, "maria@fernwood.dev"))
    assert (found["id"], found["key"], found["name"], found["bot"]) == (
        MARIA.id,
        "maria@fernwood.dev",
        "María García",
        False,
    )
    assert found["aliases"] == [
        {"kind": "email", "value": "M.Garcia@Uni-Leipzig.de"},
        {"kind": "email", "value": "maria@fernwood.dev"},
        {"kind": "handle", "value": "mgarcia@github"},
        {"kind": "name", "value": "María García"},
    ]
    # she reviewed the commit dated 1970 too: it counts as a link, not as her first activity
    assert (found["first_activity"], found["last_activity"]) == (T0, T0 + 41 * DAY)
    assert found["links"] == {"authored": 3, "handles": 1, "reviews": 3}
    files = {f["key"]: f["count"] for f in found["files"]}
    assert files == {
        "src/fernwood/tokenizer.py": 2,
        "src/fernwood/parser.py": 2,
        "pyproject.toml": 1,
        "README.md": 1,
        "tests/test_parser.py": 1,
    }
    assert [f["count"] for f in found["files"]] == [2, 2, 1, 1, 1]
    assert found["coworkers"][2] == {"key": "name:tomasz nowak", "count": 1}
    assert {c["key"]: c["count"] for c in found["coworkers"]} == {
        "jonas.becker@posteo.de": 3,
        "priya@raman.io": 3,
        "name:tomasz nowak": 1,
    }


def test_profile_of_a_maintainer_counts_shared_items_once(fernwood: Store) -> None:
    found = profile(fernwood, JONAS.id)
    assert found["links"] == {"acks": 1, "authored": 1, "handles": 1, "reviews": 1}
    assert (found["first_activity"], found["last_activity"]) == (T0 + 3 * DAY, T0 + 34 * DAY)
    # María both reviewed and committed his CRLF fix: one shared item, not two
    assert found["coworkers"] == [
        {"key": "maria@fernwood.dev", "count": 3},
        {"key": "priya@raman.io", "count": 2},
        {"key": DEPENDABOT.key, "count": 1},
    ]
    assert {f["key"]: f["count"] for f in found["files"]} == {
        "src/fernwood/tokenizer.py": 1,
        "tests/test_tokenizer.py": 1,
    }


def test_profile_of_a_bot(fernwood: Store) -> None:
    found = profile(fernwood, resolve(fernwood, DEPENDABOT.email))
    assert found["bot"] is True
    assert found["links"] == {"authored": 1}
    assert found["files"] == [{"key": "pyproject.toml", "count": 1}]
    assert found["coworkers"] == [{"key": "jonas.becker@posteo.de", "count": 1}]


def test_profile_of_someone_with_only_suspect_times(fernwood: Store) -> None:
    found = profile(fernwood, PRIYA.id)
    # her one authored commit is dated 1970: her activity comes from her reviews only
    assert found["links"] == {"authored": 1, "reviews": 2}
    assert (found["first_activity"], found["last_activity"]) == (T0 + 9 * DAY, T0 + 34 * DAY)
    assert found["files"] == [{"key": "src/fernwood/parser.py", "count": 1}]


def test_profile_limit(fernwood: Store) -> None:
    found = profile(fernwood, MARIA.id, limit=2)
    assert [f["count"] for f in found["files"]] == [2, 2]
    assert len(found["coworkers"]) == 2
    assert {c["key"] for c in found["coworkers"]} == {"jonas.becker@posteo.de", "priya@raman.io"}


def test_profile_of_an_unknown_id(fernwood: Store) -> None:
    with pytest.raises(NotFoundError):
        profile(fernwood, 12345)


def test_profile_of_someone_without_files_or_coworkers(fernwood: Store) -> None:
    lone = Who("Lena Fischer", "lena@fischer.example")
    write(
        fernwood,
        [Commit("Empty commit to trigger CI", lone, T0 + 50 * DAY, {}).record()],
    )
    found = profile(fernwood, resolve(fernwood, "Lena Fischer"))
    assert found["files"] == [] and found["coworkers"] == []
    assert found["first_activity"] == found["last_activity"] == T0 + 50 * DAY
    assert found["links"] == {"authored": 1}
