"""A stable hash of the whole graph, for comparing two stores.

The digest covers every node, link, alias and item text, in id order, as canonical text: the
same graph gives the same digest on SQLite and PostgreSQL, whatever the order or the number of
runs that built it. Source cursors and timestamps of ingest runs are bookkeeping, not graph,
and are left out.

>>> from knotwork.store.engine import Store
>>> digest(Store.open("sqlite://"))[:12]
'c22f724f6ac6'
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Table, select

from knotwork.store import schema
from knotwork.store.engine import Store

_TABLES: tuple[tuple[Table, str], ...] = (
    (schema.nodes, "id"),
    (schema.links, "id"),
    (schema.aliases, "id"),
    (schema.texts, "node"),
)


def _field(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def digest(store: Store) -> str:
    """The SHA-256 hex digest of the graph in ``store``."""
    hasher = hashlib.sha256()
    with store.connect() as connection:
        for table, key in _TABLES:
            hasher.update(f"#{table.name}\n".encode())
            columns = sorted(table.c, key=lambda c: c.name)
            query = select(*columns).order_by(table.c[key])
            result = connection.execution_options(stream_results=True, yield_per=20_000).execute(
                query
            )
            for rows in result.partitions():
                hasher.update(
                    "".join("\t".join(map(_field, row)) + "\n" for row in rows).encode(
                        "utf-8", "surrogatepass"
                    )
                )
    return hasher.hexdigest()


__all__ = ["digest"]
