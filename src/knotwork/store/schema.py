"""The tables of the store (SQLAlchemy Core), one schema for SQLite and PostgreSQL.

Ids are stable 63-bit hashes made by the sources (see :mod:`knotwork.model`), so a batch is
written without reading ids back, and the same data gives the same rows on every backend.
JSON attributes are kept as canonical JSON text so that :func:`knotwork.store.digest.digest`
is backend-independent. The tables are created by the Alembic migrations in
``store/migrations``; this module only describes them for queries.

>>> print(*sorted(metadata.tables))  # doctest: +NORMALIZE_WHITESPACE
aliases links merges nodes released score_runs scores separate sources texts tokens tombstones
users
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

nodes = Table(
    "nodes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("key", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("time", BigInteger),
    Column("flags", Integer, nullable=False, server_default="0"),
    Column("attrs", Text, nullable=False, server_default="{}"),
    Index("ix_nodes_kind_key", "kind", "key"),
)

links = Table(
    "links",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("src", BigInteger, nullable=False, index=True),
    Column("dst", BigInteger, nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("time", BigInteger),
    Column("weight", Float, nullable=False, server_default="1"),
    Column("flags", Integer, nullable=False, server_default="0"),
    Column("source", String(32), nullable=False),
    Column("attrs", Text, nullable=False, server_default="{}"),
)

aliases = Table(
    "aliases",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("value", Text, nullable=False),
    Column("person", BigInteger, nullable=False, index=True),
    Index("ix_aliases_kind_value", "kind", "value"),
)

texts = Table(
    "texts",
    metadata,
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("location", Text, nullable=False),
    Column("cursor", Text, nullable=False, server_default="{}"),
    Column("updated", BigInteger, nullable=False),
)

#: Identity merges: ``merged`` person folded into ``kept``, with the evidence, and ``moved``
#: (canonical JSON) naming exactly the alias and link rows re-pointed, so that a split restores
#: them. ``split`` is the time the merge was undone (NULL while in force). Bookkeeping, not
#: graph: :func:`knotwork.store.digest.digest` leaves it out.
merges = Table(
    "merges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kept", BigInteger, nullable=False, index=True),
    Column("merged", BigInteger, nullable=False, index=True),
    Column("evidence", Text, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("moved", Text, nullable=False, server_default="{}"),
    Column("split", BigInteger),
)

#: Rejected suggestions: people ``a < b`` whom a person declared to be two, not one.
separate = Table(
    "separate",
    metadata,
    Column("a", BigInteger, primary_key=True, autoincrement=False),
    Column("b", BigInteger, primary_key=True, autoincrement=False),
    Column("time", BigInteger, nullable=False),
)

#: API accounts: a user is an alias of a person (``person`` is NULL until they are in the graph)
#: with a ``role`` (member, analyst, admin). Tokens are kept only as a keyed hash (``digest``).
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alias", Text, nullable=False, unique=True),
    Column("person", BigInteger),
    Column("role", String(16), nullable=False),
    Column("created", BigInteger, nullable=False),
)
tokens = Table(
    "tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("user", Integer, nullable=False, index=True),
    Column("created", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Column("revoked", BigInteger),
)
#: Erased people: keyed hashes of their aliases, checked by the writer so that re-ingesting the
#: sources does not bring them back.
tombstones = Table(
    "tombstones",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("time", BigInteger, nullable=False),
)

#: Results of batch jobs brought back by ``knotwork import scores`` (migration ``0005``): one
#: run per ``kind`` (``authority``, ``groups``) with the engine, ``as_of``, half-life and the
#: store ``state`` (a view's mark, JSON) it was computed from; ``scores`` holds per node the
#: authority ``score`` or the group ``label`` (a node id). Derived data, not graph:
#: :func:`knotwork.store.digest.digest` leaves it out.
score_runs = Table(
    "score_runs",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("engine", String(16), nullable=False),
    Column("as_of", BigInteger, nullable=False),
    Column("explicit", Integer, nullable=False),
    Column("half_life_days", Float, nullable=False),
    Column("state", Text, nullable=False),
    Column("params", Text, nullable=False, server_default="{}"),
    Column("computed", BigInteger, nullable=False),
    Column("imported", BigInteger, nullable=False),
    Column("file", Text, nullable=False),
    Column("nodes", BigInteger, nullable=False),
)
scores = Table(
    "scores",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("score", Float),
    Column("label", BigInteger),
)

#: The sets of people the API released an aggregate about (migration ``0008``), so that no
#: worker of a server, and no later run, answers a set that differs from one of them by fewer
#: than ``k_min`` people (:mod:`knotwork.services.privacy_store`). ``kind``: the kind of figure
#: (``groups``, ``health``, ...); ``members``: the keyed hashes of the people's ids
#: (:func:`knotwork.store.released.member_hash`), sorted, separated by spaces, never raw ids;
#: ``people``: how many people it described (more than ``members`` once some were erased);
#: ``origin``: the id of the row first released when this one replaces it after an erasure.
released = Table(
    "released",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("members", Text, nullable=False),
    Column("people", Integer, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("origin", Integer),
    Index("ix_released_kind_id", "kind", "id"),
    sqlite_autoincrement=True,
)

__all__ = [
    "aliases",
    "links",
    "merges",
    "metadata",
    "nodes",
    "released",
    "score_runs",
    "scores",
    "separate",
    "sources",
    "texts",
    "tokens",
    "tombstones",
    "users",
]
