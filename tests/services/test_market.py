"""The market: matching with reasons, commitments within capacity."""

from __future__ import annotations

import pytest

from knotwork.errors import InputError
from knotwork.graph.sample import commit_record, sample_records, store_of
from knotwork.services.market import commit, match, match_offer, open_items, remaining
from knotwork.services.native import AuthorisationError, need, offer, post, set_state
from knotwork.store.engine import Store

NOW = 1_700_000_000


def _market() -> Store:
    records = sample_records()
    records.append(
        commit_record(
            "d4" * 20,
            "dee@example.org",
            NOW - 86_400,
            ["drivers/net/ice/ice_txrx.c"],
            "ice: checksum offload for tunnels",
        )
    )
    records.append(
        commit_record(
            "e5" * 20, "eve@example.org", NOW - 86_400, ["docs/lunch.md"], "docs: lunch menu"
        )
    )
    return store_of(records)


def test_matching_ranks_who_worked_on_the_topic_above_a_shared_word() -> None:
    store = _market()
    post(store, "dee@example.org", "How packet checksum offload works in ice", now=NOW)
    post(store, "eve@example.org", "Lunch receipts: checksum of the totals", now=NOW)
    wanted = need(
        store, "ada@example.org", "help with packet checksum offload in ice", now=NOW + 10
    )
    ranked = [m["key"] for m in match(store, wanted)]
    assert ranked.index("dee@example.org") < ranked.index("eve@example.org")
    assert all(m["reasons"] for m in match(store, wanted))
    assert "ada@example.org" not in ranked  # the asker is not matched to their own need


def test_offers_count_and_are_never_oversubscribed(store: Store) -> None:
    from knotwork.ingest.base import Batch
    from knotwork.store.writer import SourceInfo, write_batch

    write_batch(store, SourceInfo("test", "test:s", "x"), Batch(sample_records(), [], {}))
    wanted = need(store, "ada@example.org", "reviews of ice patches", now=NOW)
    other = need(store, "ada@example.org", "ice release notes", now=NOW + 1)
    given = offer(store, "bob@example.org", "ice patch reviews", capacity="4h/week", now=NOW)
    assert next(m["need"] for m in match_offer(store, given)) == wanted
    assert commit(store, "bob@example.org", given, wanted, hours=3, now=NOW + 2) == 1.0
    with pytest.raises(InputError, match="1 hours left"):
        commit(store, "bob@example.org", given, other, hours=2, now=NOW + 3)
    with pytest.raises(AuthorisationError):
        commit(store, "ada@example.org", given, other, hours=1, now=NOW + 3)
    assert remaining(store, given) == 1.0
    assert match(store, other)[0]["offer"] == given
    set_state(store, "bob@example.org", given, "withdrawn", now=NOW + 4)
    assert remaining(store, given) == 0.0
    assert [o["id"] for o in open_items(store, "offer", now=NOW + 5)] == []


def test_a_commitment_in_the_same_second_keeps_the_need_with_its_owner() -> None:
    from knotwork.graph.sample import sample_store
    from knotwork.services.native import owner
    from knotwork.store.identity import resolve

    store = sample_store()
    wanted = need(store, "ada@example.org", "ice docs", now=NOW)
    given = offer(store, "bob@example.org", "docs", capacity="2h", now=NOW)
    commit(store, "bob@example.org", given, wanted, hours=1, now=NOW)
    assert owner(store, wanted) == resolve(store, "ada@example.org")
    set_state(store, "ada@example.org", wanted, "fulfilled", now=NOW)


@pytest.mark.parametrize("method", ["power", "push"])
def test_the_numba_walk_agrees_with_the_scipy_reference(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    import numpy as np

    from knotwork.graph import ppr
    from knotwork.graph.rank import Walk
    from knotwork.graph.view import cached_view
    from knotwork.services import market, native_walk

    store = _market()
    view = cached_view(store)
    seeds = np.zeros(view.n_nodes)
    seeds[[0, 3]] = 1.0
    # reference: the plain scipy power iteration of the proximity walk
    expected = (
        Walk(view.matrix(market.PROXIMITY_WEIGHTS))
        .rank(damping=0.5, personalization=seeds, tol=1e-10, max_iter=500)
        .vector
    )
    monkeypatch.setattr(native_walk, "FAST_LINKS", 0)
    if method == "push":  # large views start the iteration from a forward push's estimate
        monkeypatch.setattr(ppr, "SMALL_GRAPH", 0)
    fast = native_walk.walk_from(view, method, market.PROXIMITY_WEIGHTS, seeds)
    assert np.abs(fast - expected).sum() < 1e-4
    assert int(np.argmax(fast)) == int(np.argmax(expected))


def test_a_large_store_keeps_its_text_index_on_disk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from pathlib import Path

    from knotwork.services import market
    from knotwork.store.text import TextIndex

    folder = Path(str(tmp_path))
    monkeypatch.setenv("KNOTWORK_CACHE", str(folder / "cache"))
    monkeypatch.setattr(market, "DISK_TEXTS", 0)
    monkeypatch.setattr(market, "_BASE", {})
    store = store_of(sample_records(), f"sqlite:///{folder / 'market.db'}")
    built = market._search(store, "ice hotplug", 10)
    assert built
    assert any((folder / "cache" / "text").iterdir())
    # a fresh process (no index in memory) loads the same index from disk
    monkeypatch.setattr(market, "_BASE", {})
    monkeypatch.setattr(TextIndex, "build", None)  # building again would fail
    assert market._search(store, "ice hotplug", 10) == built


def test_a_large_store_keeps_its_authority_vector_on_disk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from pathlib import Path

    from knotwork.graph import view as views
    from knotwork.services import market

    folder = Path(str(tmp_path))
    monkeypatch.setenv("KNOTWORK_CACHE", str(folder / "cache"))
    monkeypatch.setattr(market, "DISK_TEXTS", 0)
    store = store_of(sample_records(), f"sqlite:///{folder / 'market.db'}")
    wanted = need(store, "ada@example.org", "help with ice hotplug", now=NOW)
    first = match(store, wanted)
    assert any((folder / "cache" / "authority").iterdir())
    # a fresh process (no view in memory) reads the vector instead of ranking the graph
    monkeypatch.setattr(views, "_VIEWS", {})
    monkeypatch.setattr(market, "authority", lambda *a, **k: pytest.fail("ranked again"))
    assert match(store, wanted) == first
    # after more than AUTHORITY_STALE new links, the kept vector is stale: ranked again
    monkeypatch.setattr(market, "AUTHORITY_STALE", 0.0)
    post(store, "bob@example.org", "ice hotplug notes", cites=["drivers/net/ice/ice.c"], now=NOW)
    monkeypatch.setattr(views, "_VIEWS", {})
    with pytest.raises(pytest.fail.Exception, match="ranked again"):
        match(store, wanted)


def test_in_a_small_organisation_the_one_who_worked_on_the_topic_ranks_above_a_shared_word() -> (
    None
):
    from krackhardt_org import DAY, T0, build

    store = Store.open("sqlite://")
    org = build(store)
    expert = org.members(2)[0]  # wrote and reviewed manufacturing documents
    # sales, and no review of manufacturing documents: only shares words with the need below
    bystander = next(p for p in org.members(1) if p not in org.outsiders)
    now = T0 + 30 * DAY
    post(store, expert, "Inspection checklist for the assembly line", cites=["dept2/doc0"], now=now)
    post(store, bystander, "Quality of the coffee line at lunch", now=now)
    wanted = need(store, org.members(0)[0], "quality inspection on the assembly line", now=now + 1)
    ranked = [m["key"].split("@")[0].upper() for m in match(store, wanted, limit=30)]
    assert ranked.index(expert) < ranked.index(bystander)
    assert set(ranked[:3]) <= set(org.members(2)) | set(org.outsiders)
