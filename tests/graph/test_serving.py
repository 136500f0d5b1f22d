"""Views served in the background: readers never wait, and still see their own writes."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from knotwork.graph import ppr
from knotwork.graph.ppr import threads_for_load
from knotwork.graph.sample import commit_record
from knotwork.graph.serving import Serving, serve_views, serving
from knotwork.graph.synthetic import generate
from knotwork.graph.view import GraphView, cached_view
from knotwork.ingest.base import Batch
from knotwork.model import Node
from knotwork.store.bulk import load
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

GIT = SourceInfo("git", "git:serving", "serving")


def commit(store: Store, email: str, path: str) -> None:
    record = commit_record(email.split("@")[0], email, 1_900_000_000, [path])
    write_batch(store, GIT, Batch([record], [], {}))


def has_person(view: GraphView, email: str) -> bool:
    try:
        view.index_of(Node.person(email).id)
    except KeyError:
        return False
    return True


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """The server's store, and the same database opened by "another process" (its writes are
    not this store's writes)."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    server, other = Store.open(url), Store.open(url)
    load(server, generate(2_000, seed=5))
    yield server, other
    other.close()
    server.close()


def test_another_process_s_writes_are_served_once_warm(stores: tuple[Store, Store]) -> None:
    server, other = stores
    warmed: list[int] = []
    views = Serving(server, warm=lambda s: warmed.append(cached_view(s).n_links), poll=3600)
    views.start()
    try:
        first = cached_view(server)
        commit(other, "late@x.org", "src/late.py")
        assert cached_view(server) is first  # no waiting: the last view, until one is ready
        views.settle()
        fresh = cached_view(server)
        assert fresh is not first and has_person(fresh, "late@x.org")
        assert warmed == [fresh.n_links]  # warmed on the new view before it was served
        assert fresh.n_links == GraphView.build(server).n_links
    finally:
        views.stop()
    assert serving(server) is None


def test_own_writes_are_seen_by_the_next_read(stores: tuple[Store, Store]) -> None:
    server, _ = stores
    views = serve_views(server, warm=lambda s: None, poll=3600)
    try:
        cached_view(server)
        commit(server, "mine@x.org", "src/mine.py")
        assert has_person(cached_view(server), "mine@x.org")
    finally:
        views.stop()


def test_readers_do_not_wait_while_new_views_are_warmed(stores: tuple[Store, Store]) -> None:
    server, other = stores
    entered, release = threading.Event(), threading.Event()

    def slow_warm(store: Store) -> None:
        entered.set()
        release.wait(30)

    views = serve_views(server, warm=slow_warm, poll=0.05)
    try:
        first = cached_view(server)
        commit(other, "slow@x.org", "src/slow.py")
        assert entered.wait(30)  # the thread saw the write and warms the new view...
        started = time.perf_counter()
        assert cached_view(server) is first  # ...while readers keep the last one
        assert time.perf_counter() - started < 1.0
        release.set()
        views.settle()  # waits for the thread's round, then makes sure all is served
        assert has_person(cached_view(server), "slow@x.org")
    finally:
        release.set()
        views.stop()


def test_the_thread_looks_at_the_store_by_itself(stores: tuple[Store, Store]) -> None:
    server, other = stores
    views = serve_views(server, warm=lambda s: None, poll=0.05)
    try:
        cached_view(server)
        commit(other, "polled@x.org", "src/polled.py")
        deadline = time.monotonic() + 30
        while not has_person(cached_view(server), "polled@x.org"):
            assert time.monotonic() < deadline, "the write was never served"
            time.sleep(0.05)
    finally:
        views.stop()


def test_a_failed_warm_still_serves_the_new_views(
    stores: tuple[Store, Store], caplog: pytest.LogCaptureFixture
) -> None:
    server, other = stores

    def broken(store: Store) -> None:
        raise RuntimeError("warm failed")

    views = serve_views(server, warm=broken, poll=3600)
    try:
        cached_view(server)
        commit(other, "x@x.org", "src/x.py")
        views.settle()
        assert has_person(cached_view(server), "x@x.org")
        assert "warming the new views" in caplog.text
    finally:
        views.stop()


def test_a_round_pauses_the_collector_and_kernels_run_on_one_thread(
    stores: tuple[Store, Store],
) -> None:
    server, other = stores
    seen: list[tuple[bool, int]] = []
    views = Serving(server, warm=lambda s: seen.append((gc.isenabled(), threads_for_load())))
    views.start()
    try:
        cached_view(server)
        commit(other, "late@x.org", "src/late.py")
        views.settle()
        assert seen == [(False, 1)]  # no collection while new rows are read and warmed
        assert gc.isenabled()  # back once the round ended
    finally:
        views.stop()
    assert ppr._THREAD_CAP[0] is None  # the kernels may use every thread again


def test_a_round_reads_the_changes_once_for_every_view(
    stores: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    from knotwork.graph import live

    server, other = stores
    reads: list[tuple[int, ...] | None] = []
    read_store = live.read_store

    def counted(store: Store, since: tuple[int, ...] | None = None) -> object:
        reads.append(since)
        return read_store(store, since=since)

    views = serve_views(server, warm=lambda s: None, poll=3600)
    try:
        short, long = cached_view(server, half_life_days=30.0), cached_view(server)
        monkeypatch.setattr(live, "read_store", counted)
        commit(other, "late@x.org", "src/late.py")
        views.settle()
        assert reads == [short.mark]  # one read of what changed, for both views
        for half_life in (30.0, None):
            fresh = cached_view(server, **({"half_life_days": half_life} if half_life else {}))
            assert has_person(fresh, "late@x.org") and fresh.mark != long.mark
    finally:
        views.stop()
