"""The privacy ledger in the store: shared by workers, kept across restarts, safe when two
workers release at once, and forgetting erased people; on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from knotwork.graph.sample import sample_store
from knotwork.model import NodeKind
from knotwork.services import privacy_store
from knotwork.services.privacy_store import StoredLedger, StoredLedgers
from knotwork.store import released as released_table
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.erase import erase
from knotwork.store.released import member_hash

KEY = b"ledger-test-key"
K = 3
EVERYONE = list(range(100, 110))  # ten people
ALL_BUT_ONE = EVERYONE[1:]  # differs from EVERYONE by one person: differencing
HALF = EVERYONE[:5]  # differs from EVERYONE by five: allowed


@pytest.fixture()
def workers(store_url: str) -> Iterator[Callable[[], Store]]:
    """A factory of stores over one database, as the workers of one server open them."""
    opened: list[Store] = []

    def make() -> Store:
        opened.append(Store.open(store_url))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


def rows(store: Store) -> list[Any]:
    with store.connect() as connection:
        return list(connection.execute(select(schema.released).order_by(schema.released.c.id)))


def test_a_set_released_by_one_worker_is_refused_to_another(
    workers: Callable[[], Store],
) -> None:
    one, two = StoredLedgers(workers(), KEY, K), StoredLedgers(workers(), KEY, K)
    assert one["health"].release(EVERYONE, "all").value == "all"
    refused = two["health"].release(ALL_BUT_ONE, "all but one")
    assert refused.value is None and "would differ from an earlier figure" in refused.note
    assert two["health"].refusal(ALL_BUT_ONE) == refused.note
    assert two["health"].release(HALF, "half").value == "half"
    # and back: the first worker now knows the second's set too
    assert not one["health"].allows(HALF[1:] + EVERYONE[6:])
    # another kind of figure has its own memory
    assert two["groups"].release(ALL_BUT_ONE, "group").value == "group"


def test_the_store_keeps_keyed_hashes_never_ids(workers: Callable[[], Store]) -> None:
    store = workers()
    StoredLedgers(store, KEY, K)["health"].release(EVERYONE, 1)
    (row,) = rows(store)
    assert row.kind == "health" and row.people == len(EVERYONE) and row.origin is None
    assert sorted(row.members.split()) == sorted(member_hash(p, KEY) for p in EVERYONE)
    assert not any(str(p) in row.members for p in EVERYONE)
    # a second release of the same set records nothing new
    StoredLedgers(workers(), KEY, K)["health"].release(reversed(EVERYONE), 2)
    assert len(rows(store)) == 1


def test_the_ledger_survives_a_restart(store_url: str) -> None:
    before = Store.open(store_url)
    StoredLedgers(before, KEY, K)["participation"].release(EVERYONE, 0.5)
    before.close()
    after = Store.open(store_url)
    try:
        assert not StoredLedgers(after, KEY, K)["participation"].allows(ALL_BUT_ONE)
        # under another secret key the hashes do not match: the key is what makes them
        assert StoredLedgers(after, b"another key", K)["participation"].allows(ALL_BUT_ONE)
    finally:
        after.close()


def test_a_worker_reads_only_the_sets_it_has_not_seen(
    workers: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = (
        StoredLedgers(workers(), KEY, K)["health"],
        StoredLedgers(workers(), KEY, K)["health"],
    )
    reads: list[tuple[int, int]] = []
    real = released_table.read_since

    def spy(connection: Any, kind: str, after: int) -> list[released_table.ReleasedRow]:
        found = real(connection, kind, after)
        reads.append((after, len(found)))
        return found

    monkeypatch.setattr(privacy_store, "read_since", spy)
    one.release(EVERYONE, 1)
    two.release(HALF, 2)
    reads.clear()
    assert not one.allows(ALL_BUT_ONE) and not two.allows(ALL_BUT_ONE)
    first, second = (r.id for r in rows(two.store))
    # each read starts after the newest row its ledger had seen: the first worker reads the
    # second's set, the second (which read the first's before recording its own) reads none
    assert reads == [(first, 1), (second, 0)]
    reads.clear()
    one.allows(HALF)
    assert reads == [(second, 0)]


def test_releases_decided_together_commit_together_or_not_at_all(
    workers: Callable[[], Store],
) -> None:
    one, two = StoredLedgers(workers(), KEY, K), StoredLedgers(workers(), KEY, K)
    ledger = one["groups"]
    with pytest.raises(RuntimeError), ledger.lock:
        assert ledger.release(EVERYONE, "group").value == "group"
        with one["health"].lock:  # another kind joins the same transaction
            one["health"].release(EVERYONE, "people")
        raise RuntimeError("the answer failed before it was sent")
    assert rows(two["groups"].store) == []
    # neither this worker nor another remembers a set that was never committed
    assert ledger.allows(ALL_BUT_ONE) and two["groups"].allows(ALL_BUT_ONE)
    with ledger.lock:
        ledger.release(EVERYONE, "group")
        assert not ledger.allows(ALL_BUT_ONE)  # decided inside the same transaction
    assert not two["groups"].allows(ALL_BUT_ONE)


def _slow_add(monkeypatch: pytest.MonkeyPatch | None = None) -> None:
    """Make recording a set slow, so that two releases overlap unless they are serialised."""
    real = released_table.add

    def slow(*args: Any, **kwargs: Any) -> int:
        time.sleep(0.4)
        return real(*args, **kwargs)

    if monkeypatch is None:
        setattr(privacy_store, "add", slow)  # noqa: B010  (in a child process of the test)
    else:
        monkeypatch.setattr(privacy_store, "add", slow)


def test_two_threads_releasing_sets_that_difference_each_other_release_one(
    workers: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_add(monkeypatch)
    ledgers = [StoredLedgers(workers(), KEY, K)["health"] for _ in range(2)]
    start = threading.Barrier(2)
    results: dict[int, object] = {}

    def work(i: int) -> None:
        start.wait()
        results[i] = ledgers[i].release([EVERYONE, ALL_BUT_ONE][i], i).value

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1]
    assert sum(value is not None for value in results.values()) == 1, results
    assert len(rows(ledgers[0].store)) == 1


def _release_in_a_process(url: str, people: list[int], start: Any, out: Any) -> None:
    _slow_add()
    store = Store.open(url)
    try:
        start.wait()
        out.put(StoredLedgers(store, KEY, K)["health"].release(people, 1).value)
    finally:
        store.close()


def test_two_processes_releasing_sets_that_difference_each_other_release_one(
    store_url: str,
) -> None:
    Store.open(store_url).close()  # migrated before the workers start
    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=_release_in_a_process, args=(store_url, people, start, out))
        for people in (EVERYONE, ALL_BUT_ONE)
    ]
    for process in processes:
        process.start()
    values = [out.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sorted(values, key=lambda v: v is None) == [1, None]
    store = Store.open(store_url)
    try:
        assert len(rows(store)) == 1
    finally:
        store.close()


def people_ids(store: Store) -> dict[str, int]:
    nodes = schema.nodes
    with store.connect() as connection:
        found = connection.execute(
            select(nodes.c.key, nodes.c.id).where(nodes.c.kind == NodeKind.PERSON.value)
        )
        return {str(k): int(i) for k, i in found}


def test_erasing_a_person_takes_their_hash_out_of_every_released_set(
    store_url: str, backend: str
) -> None:
    store = sample_store(store_url)
    try:
        ids = people_ids(store)
        ada = ids["ada@example.org"]
        others = list(range(1, 10))  # the sets need not be people of the graph, ada must
        earlier = StoredLedgers(store, KEY, K)
        everyone = [ada, *others]
        assert earlier["health"].release(everyone, 1).value == 1
        assert earlier["groups"].release(everyone[: K + 1], 2).value == 2
        assert earlier["groups"].release(others[:K], 3).value is None  # ada's difference
        gone = member_hash(ada, KEY)
        assert sum(gone in row.members for row in rows(store)) == 2

        erase(store, "ada@example.org", key=KEY)

        after = rows(store)
        assert len(after) == 2 and not any(gone in row.members for row in after)
        assert [row.people for row in after] == [len(everyone), K + 1]
        assert [row.origin for row in after] == [1, 2]  # replacements of the first two rows
        if backend == "sqlite":  # vacuumed: no page of the file keeps the hash
            database = Path(store.engine.url.database or "")
            assert gone.encode() not in database.read_bytes()
        # the answers are the same: the erased member still counts in each difference
        for ledgers in (earlier, StoredLedgers(store, KEY, K)):
            assert not ledgers["groups"].allows(others[:K])
            assert not ledgers["health"].allows(others)
            assert ledgers["health"].allows(others[: len(others) - K])
        # a worker that had read the sets before reads the replacements
        assert all(gone not in s for s in earlier["groups"]._sets.values())
    finally:
        store.close()


def test_a_ledger_has_the_in_memory_ledgers_interface(store: Store) -> None:
    ledger = StoredLedger(store, "health", KEY, k_min=K)
    assert ledger.refusal(range(2)) == "suppressed: describes 2 people, fewer than k_min = 3"
    assert ledger.release(range(2), 1).suppressed
    assert rows(store) == []  # too few people: nothing to remember
    with pytest.raises(Exception, match="k_min"):
        StoredLedger(store, "health", KEY, k_min=2)
