"""The digest: one hash of the graph, the same whatever built it and on whichever backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from knotwork.model import Alias, AliasKind, Flag, LinkKind, Node, NodeKind
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo
from recordfactory import (
    DAY,
    JONAS,
    MARIA,
    T0,
    Commit,
    file_node,
    history,
    link,
    records,
    with_node,
    write,
)

EMPTY = "c22f724f6ac6"  # the digest of a store without data (see the module's doctest)


def test_an_empty_store_has_the_empty_digest(store: Store) -> None:
    assert digest(store).startswith(EMPTY)
    assert len(digest(store)) == 64


def test_splits_and_orders_of_batches_give_one_digest(new_store: Callable[[], Store]) -> None:
    recs = records()
    whole, singles, backwards, pairs = (new_store() for _ in range(4))
    write(whole, recs)
    for record in recs:
        write(singles, [record])
    for record in reversed(recs):
        write(backwards, [record])
    write(pairs, recs[5:])
    write(pairs, recs[1:5])
    write(pairs, recs[:2])  # overlaps: recs[1] comes twice
    found = {digest(s) for s in (whole, singles, backwards, pairs)}
    assert len(found) == 1
    assert not found.pop().startswith(EMPTY)


def test_cursors_and_source_names_are_not_graph(new_store: Callable[[], Store]) -> None:
    one, two = new_store(), new_store()
    write(one, records(), {"tip": "a1"})
    write(two, records(), {"tip": "zz", "pending": [1, 2, 3]}, source=SourceInfo("git", "x", "y"))
    assert digest(one) == digest(two)


def _with_link_change(**changes: Any) -> list[Any]:
    """The history with the `changed` link of the first commit to the tokenizer altered."""
    recs = records()
    first = recs[0]
    target = next(lk for lk in first.links if lk.kind is LinkKind.CHANGED)
    first.links = [replace(lk, **changes) if lk is target else lk for lk in first.links]
    return recs


@pytest.mark.parametrize(
    "changes",
    [
        {"weight": 0.5},
        {"attrs": {"added": 213, "deleted": 0}},
        {"time": T0 + 1},
        {"flags": int(Flag.TIME_SUSPECT)},
    ],
    ids=["weight", "attrs", "time", "flags"],
)
def test_one_changed_link_changes_the_digest(
    new_store: Callable[[], Store], changes: dict[str, Any]
) -> None:
    base, changed = new_store(), new_store()
    write(base, records())
    write(changed, _with_link_change(**changes))
    assert digest(base) != digest(changed)


def test_node_name_alias_and_text_are_covered(new_store: Callable[[], Store]) -> None:
    base = new_store()
    write(base, records())
    recs = records()
    renamed = with_node(recs[0], replace(recs[0].nodes[0], name="Initial import"))
    other_text = replace(recs[1], texts={recs[1].key: "tokenizer: handle CRLF"})
    matrix = Alias(AliasKind.HANDLE, "@jonas:matrix.org", JONAS.id)
    more_aliases = replace(recs[2], aliases=[*recs[2].aliases, matrix])
    variants = []
    for index, record in ((0, renamed), (1, other_text), (2, more_aliases)):
        variant = records()
        variant[index] = record
        store = new_store()
        write(store, variant)
        variants.append(digest(store))
    assert digest(base) not in variants
    assert len(set(variants)) == 3


def _tricky_records() -> list[Any]:
    """Data that tends to differ between backends: unicode, escapes, floats, nulls, big ids."""
    recs = records()
    note = Node.make(
        NodeKind.DOCUMENT,
        "docs/notes/ünïcode\ttab.md",
        "Notes: naïve → café\\path\nsecond line",
        None,
        0,
        {"lang": "de", "size": 12_345_678_901, "ratio": 0.1, "tags": ["日本語", None, True]},
    )
    extra = Commit(
        "docs: add the notes of the Zürich sprint",
        MARIA,
        T0 + 50 * DAY,
        {"docs/notes/zurich.md": (120, 0)},
        weight=1 / 3,
        reviewers=[JONAS],
        extra_links=[
            link(MARIA.id, note.id, LinkKind.MENTIONS, None, weight=0.1 + 0.2),
            link(note.id, file_node("README.md").id, LinkKind.CITES, T0, weight=1e-300),
        ],
    ).record()
    extra.nodes.append(note)
    extra.texts[note.id] = "Ünïcode text with\ttabs, \\backslashes\\ and\r\nCRLF"
    return [*recs, extra]


def test_tricky_values_survive_the_round_trip(new_store: Callable[[], Store]) -> None:
    one, two = new_store(), new_store()
    recs = _tricky_records()
    write(one, recs)
    write(two, list(reversed(recs)))
    assert digest(one) == digest(two)


@pytest.fixture()
def both_backends(
    sqlite_urls: Callable[[], str], postgres_urls: Callable[[], str]
) -> Iterator[dict[str, Any]]:
    """One empty store on each backend, plus a factory for more PostgreSQL stores."""
    stores: dict[str, Any] = {
        "sqlite": Store.open(sqlite_urls()),
        "postgres": Store.open(postgres_urls()),
    }
    more: list[Store] = []

    def postgres() -> Store:
        more.append(Store.open(postgres_urls()))
        return more[-1]

    stores["new_postgres"] = postgres
    yield stores
    for store in [stores["sqlite"], stores["postgres"], *more]:
        store.close()


@pytest.mark.postgres
def test_sqlite_and_postgres_give_the_same_digest(both_backends: dict[str, Any]) -> None:
    lite, pg = both_backends["sqlite"], both_backends["postgres"]
    assert (lite.backend, pg.backend) == ("sqlite", "postgresql")
    assert digest(lite) == digest(pg)
    recs = _tricky_records()
    write(lite, recs[:4])
    write(lite, recs[4:])
    write(pg, list(reversed(recs)))
    assert digest(lite) == digest(pg)
    write(pg, [Commit("one more", MARIA, T0 + 60 * DAY, {"README.md": (1, 1)}).record()])
    assert digest(lite) != digest(pg)


def _same_time_sightings() -> list[Any]:
    """Jonas seen at one moment under two spellings and with two attrs: only a tie-break
    between the names (and then the attrs) decides which one the store keeps."""
    at = T0 + 7 * DAY
    first = Commit("a", JONAS, at, {"README.md": (1, 0)}, author_name="Jonas Becker").record()
    second = Commit("b", JONAS, at, {"README.md": (2, 0)}, author_name="jonas becker").record()
    third = Commit("c", JONAS, at, {"README.md": (3, 0)}, author_name="jonas becker").record()
    node = next(n for n in third.nodes if n.id == JONAS.id)
    third = with_node(third, replace(node, attrs={"tz": "+0200"}))
    return [first, second, third]


@pytest.mark.postgres
def test_node_merge_ignores_the_servers_collation(both_backends: dict[str, Any]) -> None:
    """A server whose text order is linguistic (en_US, ICU) must merge names as SQLite does."""
    lite = both_backends["sqlite"]
    recs = _same_time_sightings()
    write(lite, recs)
    expected = digest(lite)
    orders = [recs, recs[::-1], [recs[1], recs[0], recs[2]], [recs[2], recs[0], recs[1]]]
    for order in orders:
        for split in (False, True):
            pg = both_backends["new_postgres"]()
            with pg.begin() as connection:
                if not connection.execute(
                    text("SELECT 1 FROM pg_collation WHERE collname = 'en-x-icu'")
                ).first():
                    pytest.skip("the server has no ICU collation en-x-icu")
                connection.execute(
                    text('ALTER TABLE nodes ALTER COLUMN name TYPE text COLLATE "en-x-icu"')
                )
                connection.execute(
                    text('ALTER TABLE nodes ALTER COLUMN attrs TYPE text COLLATE "en-x-icu"')
                )
            if split:
                for record in order:
                    write(pg, [record])
            else:
                write(pg, order)
            assert digest(pg) == expected, (order, split)


def test_same_time_sightings_merge_the_same_in_any_order(new_store: Callable[[], Store]) -> None:
    recs = _same_time_sightings()
    found = set()
    for order in (recs, recs[::-1], [recs[2], recs[0], recs[1]]):
        split, whole = new_store(), new_store()
        for record in order:
            write(split, [record])
        write(whole, order)
        found |= {digest(split), digest(whole)}
    assert len(found) == 1


def test_time_suspect_commit_is_still_in_the_graph(new_store: Callable[[], Store]) -> None:
    with_suspect, without = new_store(), new_store()
    write(with_suspect, records())
    write(without, records(history()[:-1]))
    assert digest(with_suspect) != digest(without)
