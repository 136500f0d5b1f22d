"""Profile counts while another process ingests: served from the cache for the store's read
lag, recomputed at once after this process's own writes or without a lag, and in the
background (served as they were meanwhile) up to a few lags later."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from knotwork.graph.sample import commit_record
from knotwork.ingest.base import Batch
from knotwork.model import Node
from knotwork.store.engine import Store
from knotwork.store.identity import RECOUNTS, STALE_LAGS, profile
from knotwork.store.writer import SourceInfo, write_batch

GIT = SourceInfo("git", "git:lag", "lag")
ADA = Node.person("ada@example.org").id


def commit(store: Store, n: int) -> None:
    record = commit_record(f"c{n}", "ada@example.org", 1_800_000_000 + n, [f"src/f{n}.py"])
    write_batch(store, GIT, Batch([record], [], {}))


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    url = f"sqlite:///{tmp_path / 'lag.db'}"
    server, other = Store.open(url), Store.open(url)
    commit(server, 0)
    yield server, other
    other.close()
    server.close()


def authored(store: Store) -> int:
    return int(profile(store, ADA)["links"]["authored"])


def test_without_a_lag_others_writes_count_at_once(stores: tuple[Store, Store]) -> None:
    server, other = stores
    assert authored(server) == 1
    commit(other, 1)
    assert authored(server) == 2


def test_with_a_lag_others_writes_wait_but_own_writes_do_not(
    stores: tuple[Store, Store],
) -> None:
    server, other = stores
    server.read_lag = 3600.0
    assert authored(server) == 1
    commit(other, 1)
    assert authored(server) == 1  # another process's write: the cached counts, for the lag
    commit(server, 2)
    assert authored(server) == 3  # this process wrote: counted again, with both writes
    server.read_lag = 0.0
    commit(other, 3)
    assert authored(server) == 4


def test_counts_past_the_lag_are_served_while_counted_again(
    stores: tuple[Store, Store],
) -> None:
    server, other = stores
    server.read_lag = 1.0
    assert authored(server) == 1
    commit(other, 1)
    time.sleep(1.1)  # past the lag, within STALE_LAGS lags: the kept counts, recounted behind
    assert authored(server) == 1
    assert RECOUNTS.wait()
    assert authored(server) == 2  # the recount, younger than the lag again
    commit(other, 2)
    time.sleep(STALE_LAGS * 1.0 + 0.1)  # too old to serve: counted in the reader's thread
    assert authored(server) == 3
