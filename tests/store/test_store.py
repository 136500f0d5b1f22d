"""Opening stores (URLs, schema, migrations) and writing batches, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, func, inspect, select, text

from knotwork.errors import ConfigError, StoreError
from knotwork.model import Flag, LinkKind, NodeKind
from knotwork.store import engine as engine_module
from knotwork.store import schema, writer
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, read_cursor
from recordfactory import (
    DAY,
    JONAS,
    MARIA,
    SOURCE,
    T0,
    Commit,
    history,
    records,
    write,
)

HEAD = "0008"
TABLES = {"nodes", "links", "aliases", "texts", "sources", "merges", "separate"}
TABLES |= {"users", "tokens", "tombstones"}  # 0004: API accounts and erasure tombstones
TABLES |= {"score_runs", "scores"}  # 0005: imported results of batch jobs
TABLES |= {"jobs"}  # 0006: ingest jobs of the API
TABLES |= {"affected_runs", "affected"}  # 0007: who each proposal affected (kept snapshots)
TABLES |= {"released"}  # 0008: the sets of people aggregates were released about


def count(store: Store, table: Any) -> int:
    with store.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def table_names(store: Store) -> set[str]:
    with store.connect() as connection:
        return set(inspect(connection).get_table_names())


# --- opening -------------------------------------------------------------------------------


def test_open_creates_the_schema_at_head(store: Store, backend: str) -> None:
    assert table_names(store) == TABLES | {"alembic_version"}
    assert store.schema_version() == HEAD
    assert store.backend == {"sqlite": "sqlite", "postgres": "postgresql"}[backend]
    assert count(store, schema.nodes) == 0


def test_open_without_upgrade_leaves_an_empty_database_alone(store_url: str) -> None:
    bare = Store.open(store_url, upgrade=False)
    try:
        assert bare.schema_version() is None
        assert table_names(bare) == set()
        bare.upgrade()
        assert bare.schema_version() == HEAD
        assert table_names(bare) >= TABLES
    finally:
        bare.close()


def test_reopening_is_a_no_op(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Store.open(store_url)
    write(first, records()[:3], {"tip": "abc"})
    before = digest(first)
    first.close()

    def no_migration(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a store at head must not be migrated again")

    monkeypatch.setattr(command, "upgrade", no_migration)
    again = Store.open(store_url)
    try:
        assert again.schema_version() == HEAD
        assert digest(again) == before
        assert count(again, schema.nodes) > 0
        assert read_cursor(again, SOURCE.name) == {"tip": "abc"}
    finally:
        again.close()


def test_a_store_from_a_newer_knotwork_is_refused(store: Store, store_url: str) -> None:
    write(store, records()[:1])
    with store.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    kept = digest(store)
    with pytest.raises(StoreError, match="ffff") as caught:
        Store.open(store_url)
    assert caught.value.place == store_url
    assert "newer" in caught.value.reason
    # nothing was touched: the data and the foreign revision are still there
    assert digest(store) == kept
    assert store.schema_version() == "ffff"


def test_a_store_that_fails_to_open_keeps_no_connections(
    store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    made: list[Engine] = []

    def create_engine_spy(*args: Any, **kwargs: Any) -> Engine:
        made.append(create_engine(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(engine_module, "create_engine", create_engine_spy)
    with pytest.raises(StoreError):
        Store.open(store_url)
    assert len(made) == 1
    pool: Any = made[0].pool
    assert pool.checkedin() == pool.checkedout() == 0


@pytest.mark.parametrize(
    "url",
    [
        "mysql://fernwood@db.internal/knotwork",
        "nonsense",
        "sqlite:////nonexistent-folder-7f3a/sub/k.db",
        "oracle+cx_oracle://scott:tiger@localhost/xe",
    ],
)
def test_unusable_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Store.open(url)
    assert caught.value.place == url
    assert caught.value.exit_code == 2


def test_sqlite_in_a_missing_folder_names_the_folder_problem(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/not-there/k.db"
    with pytest.raises(ConfigError, match="folder"):
        Store.open(url)
    assert not (tmp_path / "not-there").exists()


def test_an_unreachable_postgres_server_is_a_store_error() -> None:
    url = "postgresql://postgres@127.0.0.1:1/test?connect_timeout=3"
    with pytest.raises(StoreError) as caught:
        Store.open(url)
    assert caught.value.place == url


# --- writing batches -----------------------------------------------------------------------


def test_write_batch_counts_ingested_and_duplicates(store: Store) -> None:
    recs = records()
    assert write(store, recs[:4]) == (4, 0)
    # two already stored, three new
    assert write(store, recs[2:]) == (3, 2)
    assert write(store, recs) == (0, 7)
    assert count(store, schema.nodes) == 7 + 6 + 5  # commits, files, people
    assert count(store, schema.links) == 28
    assert count(store, schema.aliases) == 11
    assert count(store, schema.texts) == 7


def test_rows_hold_what_the_records_say(store: Store) -> None:
    commit = history()[1]
    write(store, [commit.record()])
    with store.connect() as connection:
        node = connection.execute(
            select(schema.nodes).where(schema.nodes.c.id == commit.node.id)
        ).one()
        changed = connection.execute(
            select(schema.links.c.attrs, schema.links.c.source, schema.links.c.weight)
            .where(schema.links.c.src == commit.node.id)
            .order_by(schema.links.c.attrs)
        ).all()
        message = connection.execute(
            select(schema.texts.c.text).where(schema.texts.c.node == commit.node.id)
        ).scalar_one()
    assert (node.kind, node.key, node.name, node.time) == (
        "commit",
        commit.sha,
        "tokenizer: handle CRLF line endings",
        T0 + 3 * DAY,
    )
    assert [tuple(row) for row in changed] == [
        ('{"added":14,"deleted":3}', "git", 1.0),
        ('{"added":40,"deleted":0}', "git", 1.0),
    ]
    assert message.startswith("tokenizer: handle CRLF line endings\n\nWindows checkouts")


def test_writing_the_same_batch_twice_changes_nothing(store: Store) -> None:
    recs = records()
    assert write(store, recs, {"tip": "t1"}) == (7, 0)
    once = digest(store)
    assert write(store, recs, {"tip": "t1"}) == (0, 7)
    assert digest(store) == once
    assert count(store, schema.links) == 28


def test_read_cursor_is_none_before_the_first_write(store: Store) -> None:
    assert read_cursor(store, SOURCE.name) is None
    write(store, records()[:2], {"tips": {"refs/heads/main": "9f1c2e7"}, "done": 2})
    assert read_cursor(store, SOURCE.name) == {"tips": {"refs/heads/main": "9f1c2e7"}, "done": 2}
    assert read_cursor(store, "git:another-repo") is None


def test_the_cursor_moves_with_each_batch_and_per_source(store: Store) -> None:
    recs = records()
    other = SourceInfo("git", "git:fernwood-docs", "/srv/git/fernwood-docs.git")
    write(store, recs[:2], {"done": 2})
    write(store, recs[2:4], {"done": 4})
    write(store, recs[4:5], {"done": 1}, source=other)
    assert read_cursor(store, SOURCE.name) == {"done": 4}
    assert read_cursor(store, other.name) == {"done": 1}
    # an empty batch still records progress (e.g. a run that found nothing new)
    write(store, [], {"done": 7})
    assert read_cursor(store, SOURCE.name) == {"done": 7}


def _fail_after_links(monkeypatch: pytest.MonkeyPatch) -> None:
    original = writer._write_ignoring

    def write_then_fail(connection: Any, table: Any, key: str, rows: Any) -> None:
        original(connection, table, key, rows)
        if table is schema.links:
            raise RuntimeError("disk full after the links")

    monkeypatch.setattr(writer, "_write_ignoring", write_then_fail)


def test_a_failed_first_batch_leaves_neither_rows_nor_cursor(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = digest(store)
    _fail_after_links(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        write(store, records()[:3], {"done": 3})
    assert read_cursor(store, SOURCE.name) is None
    assert digest(store) == empty
    assert count(store, schema.nodes) == count(store, schema.links) == 0


def test_a_failed_later_batch_keeps_the_earlier_batch_and_its_cursor(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    recs = records()
    write(store, recs[:3], {"done": 3})
    after_first = digest(store)
    _fail_after_links(monkeypatch)
    with pytest.raises(RuntimeError):
        write(store, recs[3:], {"done": 7})
    assert read_cursor(store, SOURCE.name) == {"done": 3}
    assert digest(store) == after_first
    monkeypatch.undo()
    # resuming from the kept cursor completes the store
    assert write(store, recs[3:], {"done": 7}) == (4, 0)
    assert read_cursor(store, SOURCE.name) == {"done": 7}
    assert count(store, schema.links) == 28


# --- merging nodes met again ---------------------------------------------------------------


def _jonas_seen_twice() -> tuple[Any, Any]:
    """Jonas as a renamed, flagged author 2 days in, and under his full name 40 days in."""
    early = Commit(
        "tokenizer: handle tabs",
        JONAS,
        T0 + 2 * DAY,
        {"src/fernwood/tokenizer.py": (3, 1)},
        author_name="jbecker",
        author_flags=int(Flag.DEFECT),
    ).record()
    late = Commit(
        "parser: accept trailing commas",
        JONAS,
        T0 + 40 * DAY,
        {"src/fernwood/parser.py": (9, 2)},
        author_name="Jonas Becker",
    ).record()
    return early, late


def _person(store: Store, person_id: int) -> Any:
    with store.connect() as connection:
        return connection.execute(select(schema.nodes).where(schema.nodes.c.id == person_id)).one()


def test_node_merge_does_not_depend_on_batch_order(new_store: Any) -> None:
    early, late = _jonas_seen_twice()
    stores = [new_store() for _ in range(4)]
    write(stores[0], [early])
    write(stores[0], [late])
    write(stores[1], [late])
    write(stores[1], [early])
    write(stores[2], [early, late])
    write(stores[3], [late, early])
    digests = {digest(s) for s in stores}
    assert len(digests) == 1
    for s in stores:
        jonas = _person(s, JONAS.id)
        assert (jonas.name, jonas.time) == ("Jonas Becker", T0 + 40 * DAY)
        assert jonas.flags == int(Flag.DEFECT)  # OR of both sightings


def test_node_merge_keeps_the_latest_name_even_when_it_sorts_first(new_store: Any) -> None:
    # "Becker, Jonas" < "jbecker" as text: the time, not the name, decides
    older = Commit("a", JONAS, T0 + DAY, {"README.md": (1, 0)}, author_name="jbecker").record()
    newer = Commit(
        "b", JONAS, T0 + 5 * DAY, {"README.md": (1, 0)}, author_name="Becker, Jonas"
    ).record()
    one, two = new_store(), new_store()
    write(one, [older])
    write(one, [newer])
    write(two, [newer])
    write(two, [older])
    assert _person(one, JONAS.id).name == _person(two, JONAS.id).name == "Becker, Jonas"
    assert digest(one) == digest(two)


def test_flags_are_or_ed_across_batches(store: Store) -> None:
    bot_run = Commit(
        "ci: pin the runner image",
        MARIA,
        T0 + 3 * DAY,
        {".github/workflows/ci.yml": (2, 2)},
        author_flags=int(Flag.BOT),
    ).record()
    defect = Commit(
        "Merge branch 'parser'",
        MARIA,
        T0 + DAY,
        {"src/fernwood/parser.py": (0, 0)},
        author_flags=int(Flag.DEFECT),
    ).record()
    write(store, [bot_run])
    write(store, [defect])
    assert _person(store, MARIA.id).flags == int(Flag.BOT | Flag.DEFECT)
    with store.connect() as connection:
        kinds: dict[str, int] = dict(
            connection.execute(
                select(schema.nodes.c.kind, func.count()).group_by(schema.nodes.c.kind)
            ).all()
        )
    assert kinds == {NodeKind.PERSON.value: 1, NodeKind.COMMIT.value: 2, NodeKind.FILE.value: 2}


def test_links_are_events_kept_once_each(store: Store) -> None:
    recs = records()
    write(store, recs)
    with store.connect() as connection:
        authored = connection.execute(
            select(func.count())
            .select_from(schema.links)
            .where(
                schema.links.c.kind == LinkKind.AUTHORED.value,
                schema.links.c.src == MARIA.id,
            )
        ).scalar_one()
    assert authored == 3
