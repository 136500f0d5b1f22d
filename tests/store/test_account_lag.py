"""The person behind an account while another process ingests: kept for the store's read lag
(a user whose alias names no one would otherwise pay an identity lookup on every request),
looked up again at once after this process's own writes or without a lag."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knotwork.graph.sample import commit_record
from knotwork.ingest.base import Batch
from knotwork.model import Node
from knotwork.store.accounts import add_user, check_token
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

GIT = SourceInfo("git", "git:accounts", "accounts")
KEY = b"k"


def commit(store: Store, author: str, n: int) -> None:
    record = commit_record(f"c{n}", author, 1_800_000_000 + n, [f"src/f{n}.py"])
    write_batch(store, GIT, Batch([record], [], {}))


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    server, other = Store.open(url), Store.open(url)
    commit(server, "someone@example.org", 0)
    yield server, other
    other.close()
    server.close()


def person(store: Store, token: str) -> int | None:
    account = check_token(store, token, key=KEY)
    assert account is not None
    return account.person


def test_an_alias_that_becomes_a_person_is_seen_after_the_lag_or_own_writes(
    stores: tuple[Store, Store],
) -> None:
    server, other = stores
    server.read_lag = 3600.0
    token = add_user(server, "ada@example.org", "member", key=KEY)
    assert person(server, token) is None  # no such person yet
    commit(other, "ada@example.org", 1)
    assert person(server, token) is None  # another process's write: kept for the lag
    commit(server, "bob@example.org", 2)
    assert person(server, token) == Node.person("ada@example.org").id  # own write: looked up


def test_without_a_lag_the_person_is_looked_up_every_time(stores: tuple[Store, Store]) -> None:
    server, other = stores
    token = add_user(server, "ada@example.org", "member", key=KEY)
    assert person(server, token) is None
    commit(other, "ada@example.org", 1)
    assert person(server, token) == Node.person("ada@example.org").id
