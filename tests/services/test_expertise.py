"""Expertise: seeds from paths and text, personalized PageRank, evidence, time, bots."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from knotwork.errors import InputError, NotFoundError
from knotwork.graph.sample import commit_record, store_of
from knotwork.graph.synthetic import generate
from knotwork.graph.view import EXPERTISE_HALF_LIFE_DAYS, cached_view
from knotwork.ingest.base import Batch
from knotwork.services.expertise import (
    DEFAULT_SETTINGS,
    ExpertiseIndex,
    explain,
    who_knows,
    with_changes,
)
from knotwork.store.bulk import load
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

T = 1_600_000_000
DAY = 86_400


def project() -> Store:
    """ice: ada writes, mo (maintainer) acks and handles; eal: eve writes, old leaves long ago."""
    records = []
    for i in range(6):
        records.append(
            commit_record(
                f"ice{i}",
                "ada@x.org",
                T + i * DAY,
                [f"drivers/net/ice/ice_{i % 2}.c"],
                f"net/ice: fix rx queue {i}",
                acks=["mo@x.org"],
                handles=["mo@x.org"],
            )
        )
    records.append(commit_record("ice9", "zed@x.org", T, ["drivers/net/ice2/x.c"], "net/ice2"))
    for i in range(4):
        records.append(
            commit_record(
                f"eal{i}",
                "eve@x.org",
                T + i * DAY,
                ["lib/eal/eal_memory.c", "lib/eal/eal.h"],
                f"eal: memory hotplug support {i}",
            )
        )
    for i in range(8):  # a past expert of EAL, gone for five years
        records.append(
            commit_record(
                f"old{i}",
                "old@x.org",
                T - 2000 * DAY,
                ["lib/eal/eal_memory.c"],
                "eal: memory rework",
            )
        )
    records.append(commit_record("bot0", "bot:ci@x.org", T + 9 * DAY, ["lib/eal/eal.h"], "bump"))
    return store_of(records)


def keys(store: Store, query: str, **options: object) -> list[str]:
    return [e.key for e in who_knows(store, query, **options).experts]  # type: ignore[arg-type]


def test_path_prefix_finds_authors_and_maintainers_who_ack() -> None:
    store = project()
    found = keys(store, "drivers/net/ice/")
    assert set(found[:2]) == {"ada@x.org", "mo@x.org"}
    assert "zed@x.org" not in found[:2]  # ice2 is another folder


def test_reviews_and_acks_count_as_knowledge() -> None:
    answer = who_knows(project(), "drivers/net/ice/ice_0.c")
    mo = next(e for e in answer.experts if e.key == "mo@x.org")
    assert mo.evidence and set(mo.evidence[0].links) == {"acks", "handles"}
    assert mo.evidence[0].files == ["drivers/net/ice/ice_0.c"]


def test_people_gone_long_are_discounted_and_shown_inactive() -> None:
    answer = who_knows(project(), "lib/eal/eal_memory.c")
    assert answer.experts[0].key == "eve@x.org"
    old = next(e for e in answer.experts if e.key == "old@x.org")
    assert old.inactive and not answer.experts[0].inactive


def test_as_of_asks_the_graph_as_it_stood() -> None:
    store = project()
    assert keys(store, "lib/eal/", as_of=T - 1000 * DAY) == ["old@x.org"]


def test_bots_are_never_experts() -> None:
    assert "ci@x.org" not in keys(project(), "lib/eal/eal.h", limit=50)


def test_free_text_seeds_from_commit_messages() -> None:
    answer = who_knows(project(), "memory hotplug")
    assert answer.experts[0].key == "eve@x.org"
    assert answer.terms == [
        {"term": "memory hotplug", "kind": "text", "matched": 13}
    ]  # 12 messages, 1 path


def test_globs_and_path_matching() -> None:
    view = cached_view(project())
    index = ExpertiseIndex.of(view, DEFAULT_SETTINGS)

    def paths(term: str) -> list[str]:
        return sorted(view.keys[i] for i in index.match_path(term))

    assert paths("drivers/net/ice") == ["drivers/net/ice/ice_0.c", "drivers/net/ice/ice_1.c"]
    assert paths("drivers/net/ice/") == paths("drivers/net/ice")
    assert paths("drivers/net/ice*") == [*paths("drivers/net/ice"), "drivers/net/ice2/x.c"]
    assert paths("lib/eal/*.h") == ["lib/eal/eal.h"]
    assert paths("./lib/eal/eal.h") == ["lib/eal/eal.h"]
    assert paths("lib/eal/eal") == []
    assert paths("nowhere/") == []


def test_specific_paths_weigh_more_than_broad_ones() -> None:
    view = cached_view(project())
    index = ExpertiseIndex.of(view, DEFAULT_SETTINGS)
    seeds, terms = index.seeds(None, "drivers/ lib/eal/eal.h")
    assert [t["matched"] for t in terms] == [3, 1]
    one_driver_file = index.match_path("drivers/net/ice/ice_0.c")[0]
    eal_h = index.match_path("lib/eal/eal.h")[0]
    assert seeds[eal_h] > seeds[one_driver_file]


def test_unmatched_and_empty_queries() -> None:
    store = project()
    assert who_knows(store, "no/such/path").experts == []
    with pytest.raises(InputError):
        who_knows(store, "  ")


def test_explain_breaks_mass_down_by_kind_of_link() -> None:
    store = project()
    why = explain(store, "mo@x.org", "drivers/net/ice/")
    assert why["rank"] in (1, 2)
    assert set(why["links"]) == {"acks", "handles"}
    assert sum(why["links"].values()) == pytest.approx(1.0)
    assert len(why["evidence"]) == 6
    with pytest.raises(NotFoundError):
        explain(store, "nobody@x.org", "x")


def test_settings_change_the_answer() -> None:
    store = project()
    only_authors = with_changes(DEFAULT_SETTINGS, weights={"authored": 1.0, "changed": 1.0})
    assert "mo@x.org" not in keys(store, "drivers/net/ice/", settings=only_authors)


def test_a_new_commit_is_seen_without_rebuilding_the_text_index() -> None:
    store = project()
    first = who_knows(store, "rx queue")
    assert "ada@x.org" in [e.key for e in first.experts]
    view = cached_view(store, half_life_days=1000.0)
    old = ExpertiseIndex.of(view, DEFAULT_SETTINGS)
    assert old._text is not None and len(old._text) == 1
    late = commit_record("kv1", "kim@x.org", T + 9 * DAY, ["lib/kvargs/kv.c"], "kvargs: parse")
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch([late], [], {}))
    answer = who_knows(store, "kvargs parse")
    assert [e.key for e in answer.experts] == ["kim@x.org"]
    new = ExpertiseIndex.of(cached_view(store, half_life_days=1000.0), DEFAULT_SETTINGS)
    assert new.view.previous is not None  # extended, not rebuilt
    assert new._text is not None and len(new._text) == 2 and new._text[0] is old._text[0]
    assert [e.key for e in who_knows(store, "rx queue").experts] == [e.key for e in first.experts]
    # a path-only query does not index the new texts; the next extension still does
    later = commit_record("kv2", "lu@x.org", T + 10 * DAY, ["lib/kvargs/kv2.c"], "kvargs: split")
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch([later], [], {}))
    who_knows(store, "lib/kvargs/")
    final = commit_record("kv3", "mi@x.org", T + 11 * DAY, ["lib/kvargs/kv3.c"], "kvargs: free")
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch([final], [], {}))
    assert "lu@x.org" in [e.key for e in who_knows(store, "split").experts]


def test_the_fast_walk_gives_the_scipy_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    import knotwork.services.expertise as expertise

    store = project()
    slow = who_knows(store, "drivers/net/ice/ rx queue", settings=with_changes(DEFAULT_SETTINGS))
    monkeypatch.setattr(expertise, "FAST_NODES", 0)
    fast = who_knows(
        store, "drivers/net/ice/ rx queue", settings=with_changes(DEFAULT_SETTINGS, tol=1e-7)
    )
    assert [e.key for e in fast.experts] == [e.key for e in slow.experts]
    for a, b in zip(fast.experts, slow.experts, strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-3)


def test_many_small_text_parts_are_merged_keeping_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import knotwork.services.expertise as expertise

    monkeypatch.setattr(expertise, "TEXT_PARTS", 3)
    store = project()
    who_knows(store, "rx queue")
    first = ExpertiseIndex.of(cached_view(store, half_life_days=1000.0), DEFAULT_SETTINGS)
    assert first._text is not None
    base = first._text[0]
    words = ["alpha", "bravo", "charlie", "delta"]
    for n, word in enumerate(words):
        late = commit_record(
            f"p{n}", f"p{n}@x.org", T + (20 + n) * DAY, [f"lib/{word}/x.c"], f"{word}: fix"
        )
        write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch([late], [], {}))
        who_knows(store, word)
    index = ExpertiseIndex.of(cached_view(store, half_life_days=1000.0), DEFAULT_SETTINGS)
    assert index._text is not None and index._text[0] is base
    assert len(index._text) <= 3  # merged once it reached three parts
    for n, word in enumerate(words):  # every new commit's text is still found, once
        assert [e.key for e in who_knows(store, word).experts][:1] == [f"p{n}@x.org"]
    nodes = np.concatenate([part.nodes for part in index._text[1:]])
    assert len(nodes) == len(set(nodes.tolist()))


def test_a_new_view_and_its_indexes_give_the_collector_no_container_per_node() -> None:
    """A server makes new views while it answers: each container the garbage collector walks
    item by item stops every thread at each collection it takes part in (a list of 380,000
    keys: about 3 ms), so a view and its indexes keep their per-node data in arrays."""
    store = Store.open("sqlite://")
    load(store, generate(120_000, seed=5).part(0, 120_000))
    gc.collect()
    alive = gc.get_objects()  # held, so that no id below is reused
    before = {id(o) for o in alive}
    view = cached_view(store, half_life_days=EXPERTISE_HALF_LIFE_DAYS)
    index = ExpertiseIndex.of(view, DEFAULT_SETTINGS)
    index.text_index(store)
    assert who_knows(store, "syn:file").experts
    walked = (list, tuple, dict, set, frozenset)
    made = [o for o in gc.get_objects() if id(o) not in before and isinstance(o, walked)]
    made = [o for o in made if o is not alive and o is not before]
    assert view.n_nodes > 10_000 and len(index.paths) > 1_000
    assert max(len(o) for o in made) < view.n_nodes / 20
