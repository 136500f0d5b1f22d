"""Store statistics over fernwood's history, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from knotwork.model import Flag
from knotwork.store.engine import Store
from knotwork.store.stats import stats
from knotwork.store.writer import SourceInfo
from recordfactory import DAY, MARIA, SOURCE, T0, Commit, records, write


def test_an_empty_store(store: Store) -> None:
    assert stats(store) == {
        "nodes": {},
        "links": {},
        "aliases": 0,
        "flagged": {"bots": 0, "time_suspect": 0, "defects": 0},
        "time_span": {"first": None, "last": None},
        "sources": [],
    }


def test_counts_by_kind_and_flags(store: Store) -> None:
    write(store, records())
    found = stats(store)
    assert found["nodes"] == {"commit": 7, "file": 6, "person": 5}
    assert found["links"] == {
        "acks": 1,
        "authored": 7,
        "changed": 12,
        "handles": 2,
        "reviews": 6,
    }
    assert list(found["links"]) == sorted(found["links"])
    assert found["aliases"] == 11
    # dependabot is the bot; the commit dated 1970 is the suspect node
    assert found["flagged"] == {"bots": 1, "time_suspect": 1, "defects": 0}


def test_defects_are_counted(store: Store) -> None:
    broken = Commit(
        "Merge tag 'v0.2.0'",
        MARIA,
        T0 + 60 * DAY,
        {"CHANGELOG.md": (30, 0)},
        flags=int(Flag.DEFECT | Flag.MERGE),
    )
    write(store, [*records(), broken.record()])
    assert stats(store)["flagged"] == {"bots": 1, "time_suspect": 1, "defects": 1}


def test_the_time_span_leaves_out_suspect_times(store: Store) -> None:
    write(store, records())
    # the suspect commit (time 0) and its links are stored, but the span starts at T0
    assert stats(store)["time_span"] == {"first": T0, "last": T0 + 41 * DAY}


def test_a_span_of_only_suspect_times_is_empty(store: Store) -> None:
    suspect = records()[-1]
    write(store, [suspect])
    found = stats(store)
    assert found["nodes"]["commit"] == 1
    assert found["time_span"] == {"first": None, "last": None}


def test_sources_with_their_cursors(store: Store) -> None:
    recs = records()
    docs = SourceInfo("git", "git:fernwood-docs", "/srv/git/fernwood-docs.git")
    started = int(time.time())
    write(store, recs[:3], {"done": 3, "tips": {"main": "3f9e1c2", "dev": "a41b0d9"}})
    write(
        store,
        recs[3:],
        {"done": 7, "tips": {"main": "77aa0e1", "pending": ["c1", "c2", "c3", "c4", "c5"]}},
    )
    write(store, [], {"done": 0}, source=docs)
    found = stats(store)["sources"]
    assert [s["name"] for s in found] == ["git:fernwood", "git:fernwood-docs"]
    main, other = found
    assert (main["kind"], main["location"]) == ("git", SOURCE.location)
    # the latest cursor, with long lists summarised by their length
    assert main["cursor"] == {"done": 7, "tips": {"main": "77aa0e1", "pending": 5}}
    assert other["cursor"] == {"done": 0}
    assert started <= main["updated"] <= int(time.time())
