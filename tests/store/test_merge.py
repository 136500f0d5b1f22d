"""Merging and splitting people, and suggestions, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from knotwork.errors import InputError, NotFoundError
from knotwork.model import Alias, AliasKind, Link, LinkKind, Node, NodeKind, Record, make_id
from knotwork.store import schema
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.identity import profile, resolve, suggest
from knotwork.store.merge import (
    apply_merges,
    history,
    link_platforms,
    merge,
    reject,
    split,
)
from recordfactory import DAY, JONAS, PRIYA, T0, Commit, Who, records, write

ALEX_WORK = Who("Alex Kim", "alex.kim@fernwood.dev")
ALEX_HOME = Who("Alex Kim", "akim@fastmail.com")
JEAN = Who("Jéan  DUPONT", "jean@dupont.fr")  # accents, case and spaces do not matter
JEAN_LIST = Who("jdupont", "jean.dupont@lists.example.org")


@pytest.fixture()
def fernwood(store: Store) -> Store:
    """Fernwood's history, two addresses of Alex Kim, two of Jean Dupont."""
    write(store, records())
    extra = [
        Commit("ci: cache pip", ALEX_WORK, T0 + 44 * DAY, {"ci.yml": (6, 0)}),
        Commit("typo in README", ALEX_HOME, T0 + 45 * DAY, {"README.md": (1, 1)}),
        Commit("docs: i18n", JEAN, T0 + 46 * DAY, {"docs/i18n.md": (30, 0)}),
        Commit("docs: fr", JEAN_LIST, T0 + 47 * DAY, {"docs/fr.md": (12, 2)}),
    ]
    write(store, [c.record() for c in extra])
    return store


def owner_counts(store: Store, person: int) -> tuple[int, int]:
    with store.connect() as connection:
        aliases = connection.execute(
            select(func.count()).where(schema.aliases.c.person == person)
        ).scalar_one()
        links = connection.execute(
            select(func.count()).where(
                (schema.links.c.src == person) | (schema.links.c.dst == person)
            )
        ).scalar_one()
    return int(aliases), int(links)


def test_merge_moves_everything_and_split_restores_the_digest(fernwood: Store) -> None:
    before = digest(fernwood)
    home_before = owner_counts(fernwood, ALEX_HOME.id)
    work_before = owner_counts(fernwood, ALEX_WORK.id)
    assert home_before[0] > 0 and home_before[1] > 0

    done = merge(fernwood, "alex.kim@fernwood.dev", "akim@fastmail.com")
    assert done["kept"]["id"] == ALEX_WORK.id and done["merged"]["id"] == ALEX_HOME.id
    assert done["evidence"] == "explicit merge"
    assert done["moved"]["aliases"] == home_before[0]
    assert digest(fernwood) != before
    assert owner_counts(fernwood, ALEX_HOME.id) == (0, 0)
    assert owner_counts(fernwood, ALEX_WORK.id) == (
        work_before[0] + home_before[0],
        work_before[1] + home_before[1],
    )
    # both addresses (and the merged person's key) now resolve to the kept person
    assert resolve(fernwood, "akim@fastmail.com") == ALEX_WORK.id
    assert resolve(fernwood, ALEX_HOME.key) == ALEX_WORK.id
    assert profile(fernwood, ALEX_WORK.id)["links"]["authored"] == 2

    # re-ingesting the same data after a merge changes nothing
    merged = digest(fernwood)
    write(fernwood, records())
    assert digest(fernwood) == merged

    undone = split(fernwood, "akim@fastmail.com")
    assert undone == {"merge": done["merge"], "kept": ALEX_WORK.id, "split": ALEX_HOME.id}
    assert digest(fernwood) == before
    assert resolve(fernwood, "akim@fastmail.com") == ALEX_HOME.id
    # the history keeps both the merge and its split
    merges = history(fernwood, "akim@fastmail.com")["merges"]
    assert [(m["kept"], m["merged"], m["split"] is not None) for m in merges] == [
        (ALEX_WORK.key, ALEX_HOME.key, True)
    ]


def test_chained_merges_split_in_reverse_order(fernwood: Store) -> None:
    before = digest(fernwood)
    merge(fernwood, ALEX_WORK.key, ALEX_HOME.key)
    middle = digest(fernwood)
    merge(fernwood, str(PRIYA.id), str(ALEX_WORK.id))
    assert resolve(fernwood, "akim@fastmail.com") == PRIYA.id
    with pytest.raises(InputError, match=r"split \d+ first"):
        split(fernwood, ALEX_HOME.key)
    with pytest.raises(InputError, match="not merged into anyone"):
        split(fernwood, PRIYA.key)
    split(fernwood, ALEX_WORK.key)
    assert digest(fernwood) == middle
    split(fernwood, ALEX_HOME.key)
    assert digest(fernwood) == before


def test_bad_merges_are_clear_errors(fernwood: Store) -> None:
    with pytest.raises(InputError, match="already one person"):
        merge(fernwood, JONAS.key, "Jonas Becker")
    with pytest.raises(NotFoundError):
        merge(fernwood, JONAS.key, "nobody@nowhere.org")
    with pytest.raises(InputError, match="several people"):
        merge(fernwood, JONAS.key, "Alex Kim")  # a name shared by two people
    merge(fernwood, ALEX_WORK.key, ALEX_HOME.key)
    with pytest.raises(InputError, match="already one person"):
        merge(fernwood, ALEX_WORK.key, "akim@fastmail.com")
    with pytest.raises(InputError, match="already merged"):
        merge(fernwood, JONAS.key, str(ALEX_HOME.id))
    with pytest.raises(InputError, match="already merged"):
        merge(fernwood, str(ALEX_HOME.id), JONAS.key)
    with pytest.raises(InputError, match="not merged"):
        split(fernwood, JONAS.key)


def test_suggest_gives_evidence_and_merges_nothing(fernwood: Store) -> None:
    before = digest(fernwood)
    found = suggest(fernwood)
    pairs = {frozenset((s["a"]["id"], s["b"]["id"])): s["evidence"] for s in found}
    alex = pairs[frozenset((ALEX_WORK.id, ALEX_HOME.id))]
    assert "same name: 'Alex Kim' and 'Alex Kim'" in alex
    assert any("matches email 'alex.kim@fernwood.dev'" in e for e in alex)
    jean = pairs[frozenset((JEAN.id, JEAN_LIST.id))]
    assert jean == ["name 'Jéan  DUPONT' matches email 'jean.dupont@lists.example.org'"]
    # the two Alex Kims share a name and an email pattern: they come first
    assert {found[0]["a"]["id"], found[0]["b"]["id"]} == {ALEX_WORK.id, ALEX_HOME.id}
    # no one else is suggested: different names never pair up, bots are left out
    assert len(found) == 2
    assert digest(fernwood) == before
    # a merged pair is no longer suggested
    merge(fernwood, JEAN.key, JEAN_LIST.key)
    assert len(suggest(fernwood)) == 1
    assert len(suggest(fernwood, limit=0)) == 0


def platform_records() -> list[Record]:
    """Ada commits as ada@lovelace.dev and is ``ada`` on GitHub; an issue knows only the handle."""
    ada = Node.person("ada@lovelace.dev", "Ada L.")
    handle_only = Node.make(NodeKind.PERSON, "github:ada", "ada")
    issue = Node.make(NodeKind.ISSUE, "github:fernwood#7", "crash on empty repo")
    return [
        Record(
            "perceval",
            ada.id,
            "pr#3",
            nodes=[ada],
            aliases=[
                Alias(AliasKind.EMAIL, "ada@lovelace.dev", ada.id),
                Alias(AliasKind.HANDLE, "ada@github", ada.id),
            ],
        ),
        Record(
            "perceval",
            issue.id,
            "issue#7",
            nodes=[handle_only, issue],
            links=[Link(make_id("t", "issue#7"), handle_only.id, issue.id, LinkKind.AUTHORED, T0)],
            aliases=[Alias(AliasKind.HANDLE, "ada@github", handle_only.id)],
        ),
    ]


def test_a_platform_handle_is_strong_evidence(fernwood: Store) -> None:
    write(fernwood, platform_records())
    before = digest(fernwood)
    made = link_platforms(fernwood)
    ada, handle_only = Node.person("ada@lovelace.dev"), Node.make(NodeKind.PERSON, "github:ada")
    assert [(m["kept"]["id"], m["merged"]["id"], m["evidence"]) for m in made] == [
        (ada.id, handle_only.id, "platform link: ada@github")
    ]
    assert profile(fernwood, ada.id)["links"] == {"authored": 1}
    assert link_platforms(fernwood) == []  # nothing more to do
    split(fernwood, "github:ada")
    assert digest(fernwood) == before


def test_a_rejected_suggestion_is_not_suggested_again(fernwood: Store) -> None:
    before = digest(fernwood)
    assert reject(fernwood, "akim@fastmail.com", ALEX_WORK.key) == {
        "a": min(ALEX_WORK.id, ALEX_HOME.id),
        "b": max(ALEX_WORK.id, ALEX_HOME.id),
    }
    reject(fernwood, ALEX_WORK.key, "akim@fastmail.com")  # twice is once
    keys = [{s["a"]["id"], s["b"]["id"]} for s in suggest(fernwood)]
    assert keys == [{JEAN.id, JEAN_LIST.id}]
    assert digest(fernwood) == before
    with pytest.raises(InputError, match="one person already"):
        reject(fernwood, JONAS.key, "Jonas Becker")


def test_rows_ingested_after_a_merge_are_folded_and_split_back(
    fernwood: Store, tmp_path: Path
) -> None:
    merge(fernwood, ALEX_WORK.key, ALEX_HOME.key)
    later = Commit("fix: ci cache key", ALEX_HOME, T0 + 60 * DAY, {"ci.yml": (1, 1)}).record()
    write(fernwood, [later])
    assert owner_counts(fernwood, ALEX_HOME.id) != (0, 0)
    assert apply_merges(fernwood) > 0
    assert owner_counts(fernwood, ALEX_HOME.id) == (0, 0)
    assert apply_merges(fernwood) == 0
    split(fernwood, ALEX_HOME.key)
    # the same data, never merged, in another store: the same graph
    reference = Store.open(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        write(reference, records())
        extra = [
            Commit("ci: cache pip", ALEX_WORK, T0 + 44 * DAY, {"ci.yml": (6, 0)}),
            Commit("typo in README", ALEX_HOME, T0 + 45 * DAY, {"README.md": (1, 1)}),
            Commit("docs: i18n", JEAN, T0 + 46 * DAY, {"docs/i18n.md": (30, 0)}),
            Commit("docs: fr", JEAN_LIST, T0 + 47 * DAY, {"docs/fr.md": (12, 2)}),
        ]
        write(reference, [c.record() for c in extra])
        write(reference, [later])
        assert digest(fernwood) == digest(reference)
    finally:
        reference.close()


def test_one_email_is_one_person_across_sources(store: Store) -> None:
    """Committing and posting to the list with the same address: one person, no merge needed."""
    write(store, records())
    post = Node.make(NodeKind.MESSAGE, "<faq-1@lists.fernwood.dev>", "Re: FAQ")
    poster = Node.person("Jonas.Becker@posteo.de", "Jonas B.")
    message = Record(
        "mbox",
        post.id,
        "list.mbox:1",
        nodes=[poster, post],
        links=[Link(make_id("m", "faq-1"), poster.id, post.id, LinkKind.AUTHORED, T0)],
        aliases=[
            Alias(AliasKind.EMAIL, "jonas.becker@posteo.de", poster.id),
            Alias(AliasKind.NAME, "Jonas B.", poster.id),
        ],
    )
    write(store, [message])
    assert poster.id == JONAS.id
    assert resolve(store, "Jonas B.") == resolve(store, "Jonas Becker") == JONAS.id
    assert profile(store, JONAS.id)["links"]["authored"] >= 2
