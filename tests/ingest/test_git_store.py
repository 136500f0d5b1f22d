"""The git source through the store, on both backends: same graph, same digest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitfactory import build_history
from knotwork.ingest.git import GitSource
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.stats import stats
from knotwork.store.writer import ingest


@pytest.mark.postgres
def test_sqlite_and_postgresql_hold_the_same_graph(
    tmp_path: Path,
    sqlite_urls: Callable[[], str],
    postgres_urls: Callable[[], str],
) -> None:
    repo = tmp_path / "repo"
    build_history(repo, commits=120)
    digests = []
    for url in (sqlite_urls(), postgres_urls()):
        store = Store.open(url)
        try:
            report = ingest(store, GitSource(repo, chunk_size=25))
            assert (report.read, report.ingested) == (120, 120)
            again = ingest(store, GitSource(repo, chunk_size=25))
            assert (again.read, again.ingested, again.duplicates) == (0, 0, 0)
            counts = stats(store)
            assert counts["nodes"]["commit"] == 120
            assert counts["links"]["authored"] == 120
            digests.append(digest(store))
        finally:
            store.close()
    assert digests[0] == digests[1]


def test_writing_the_same_history_twice_counts_duplicates(
    tmp_path: Path, sqlite_urls: Callable[[], str]
) -> None:
    repo = tmp_path / "repo"
    build_history(repo, commits=30)
    store = Store.open(sqlite_urls())
    first = ingest(store, GitSource(repo, chunk_size=10))
    before = digest(store)
    # a fresh cursor (e.g. a second clone at another path with the cursor lost) reads it all
    store_two = Store.open(sqlite_urls())
    ingest(store_two, GitSource(repo, chunk_size=7))
    assert digest(store_two) == before
    with store.begin() as connection:
        connection.exec_driver_sql("DELETE FROM sources")
    second = ingest(store, GitSource(repo, chunk_size=10))
    assert (first.ingested, second.read, second.duplicates, second.ingested) == (30, 30, 30, 0)
    assert second.balanced
    assert digest(store) == before
    store.close()
    store_two.close()
