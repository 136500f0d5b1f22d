"""Opening a store: database URLs, engines, and schema migrations (Alembic).

``sqlite:///path`` is the embedded default; ``postgresql://...`` the server database (with the
``[postgres]`` extra installed). Opening a store brings its schema to the newest version.

>>> store = Store.open("sqlite://")          # an in-memory store
>>> store.backend
'sqlite'
>>> store.close()
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from knotwork.errors import ConfigError, StoreError


def normalize_url(url: str) -> str:
    """The SQLAlchemy URL for a user's database URL.

    >>> normalize_url("postgresql://localhost/test")
    'postgresql+psycopg://localhost/test'
    >>> normalize_url("sqlite:///k.db")
    'sqlite:///k.db'
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


#: The tables a graph view reads: a write to one of them changes what a view shows.
GRAPH_TABLES = frozenset({"nodes", "links", "aliases", "merges", "separate", "texts"})
_WRITE = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I
)
_GRAPH_WRITE = "knotwork_graph_write"


def graph_table_written(statement: str) -> bool:
    """Whether the SQL ``statement`` writes one of :data:`GRAPH_TABLES`.

    >>> graph_table_written("INSERT OR IGNORE INTO links (id) VALUES (?)")
    True
    >>> graph_table_written("UPDATE jobs SET state = 'done'"), graph_table_written("SELECT 1")
    (False, False)
    """
    found = _WRITE.match(statement)
    return found is not None and found.group(1).lower() in GRAPH_TABLES


def _note_write(connection: Connection, _c: Any, statement: str, *_: Any) -> None:
    if graph_table_written(statement):
        connection.info[_GRAPH_WRITE] = True


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "knotwork.store:migrations")
    config.attributes["connection"] = connection
    return config


class Store:
    """A connection to one store; use :meth:`open`.

    ``engine`` is the SQLAlchemy engine; :meth:`begin` gives a connection in a transaction.
    :attr:`graph_writes` counts the transactions of this process that wrote to the tables a
    graph view reads (:data:`GRAPH_TABLES`), counted once committed: a server that answers
    from views kept up to date in the background uses it to show a client its own writes.
    """

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.graph_writes = 0
        #: Seconds a cached answer may lag behind what *other* processes wrote (0: none); set
        #: by a server whose views are kept up to date in the background
        #: (:mod:`knotwork.graph.serving`). This process's own writes are always seen.
        self.read_lag = 0.0
        self._writes_lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", _note_write)

    def note_graph_write(self) -> None:
        """Count one committed write to the graph's tables (see :attr:`graph_writes`)."""
        with self._writes_lock:
            self.graph_writes += 1

    def within_read_lag(self, since: float, writes: int, *, lags: float = 1.0) -> bool:
        """Whether an answer read at ``since`` (``time.monotonic()``), when this process had
        made ``writes`` graph writes, may still be served: this process wrote nothing to the
        graph since, and less than ``lags`` times :attr:`read_lag` passed (never without a
        read lag).

        >>> store = Store.open("sqlite://")
        >>> store.within_read_lag(time.monotonic(), store.graph_writes)
        False
        >>> store.read_lag = 30.0
        >>> store.within_read_lag(time.monotonic(), store.graph_writes)
        True
        """
        return writes == self.graph_writes and time.monotonic() - since < lags * self.read_lag

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Open (and by default create or migrate) the store at ``url``."""
        try:
            sa_url = make_url(normalize_url(url))
        except ArgumentError:
            raise ConfigError(
                "not a database URL; use sqlite:///path or postgresql://host/db", place=url
            ) from None
        options: dict[str, Any] = {}
        if sa_url.get_backend_name() == "sqlite":
            database = sa_url.database or ""
            if database in ("", ":memory:"):
                options["poolclass"] = StaticPool
                options["connect_args"] = {"check_same_thread": False}
            elif (folder := os.path.dirname(os.path.abspath(database))) and not os.path.isdir(
                folder
            ):
                raise ConfigError("the folder of the database file does not exist", place=url)
        elif sa_url.get_backend_name() == "postgresql":
            options["pool_pre_ping"] = True
        else:
            raise ConfigError("unsupported database; use sqlite or postgresql", place=url)
        try:
            engine = create_engine(sa_url, **options)
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"the driver is missing ({exc.name}); install knotwork[postgres]", place=url
            ) from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine, url)
        if upgrade:
            try:
                store.upgrade()
            except BaseException:
                store.close()  # a store that failed to open keeps no connections
                raise
        return store

    @property
    def in_memory(self) -> bool:
        """Whether the database lives in this process's memory (no other process can open it).

        >>> [Store.open(url, upgrade=False).in_memory
        ...  for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///k.db")]
        [True, True, False]
        """
        return self.url.rstrip("/") == "sqlite:" or ":memory:" in self.url

    @property
    def cache_key(self) -> str:
        """The name of this store in a process's caches: its URL, and for a store in memory
        its engine as well (two stores in memory share a URL, not their data)."""
        return self.url + (f"#{id(self.engine)}" if self.in_memory else "")

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success."""
        try:
            with self.engine.begin() as connection:
                connection.info.pop(_GRAPH_WRITE, None)
                yield connection
                wrote = connection.info.pop(_GRAPH_WRITE, False)
        except OperationalError as exc:
            raise StoreError(str(exc.orig), place=self.url) from exc
        if wrote:  # committed: a view read from now on sees it
            self.note_graph_write()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reading."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except OperationalError as exc:
            raise StoreError(str(exc.orig), place=self.url) from exc

    def schema_version(self) -> str | None:
        """The Alembic revision the store is at (None for an empty database)."""
        with self.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def upgrade(self) -> None:
        """Create or migrate the schema to the newest revision."""
        try:
            with self.begin() as connection:
                config = _alembic_config(connection)
                head = ScriptDirectory.from_config(config).get_current_head()
                current = MigrationContext.configure(connection).get_current_revision()
                if current == head:
                    return
                known = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
                if current is not None and current not in known:
                    raise StoreError(
                        f"the store is at schema revision {current}, newer than this Knotwork",
                        place=self.url,
                    )
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store: {exc}", place=self.url) from exc

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()


__all__ = ["Store", "normalize_url"]
