"""What is in a store: nodes and links by kind, sources and their cursors, the time span.

>>> from knotwork.store.engine import Store
>>> stats(Store.open("sqlite://"))["nodes"]
{}
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Table, func, select

from knotwork.model import Flag
from knotwork.store import schema
from knotwork.store.engine import Store


def _by_kind(connection: Connection, table: Table) -> dict[str, int]:
    rows = connection.execute(
        select(table.c.kind, func.count()).group_by(table.c.kind).order_by(table.c.kind)
    )
    return {kind: count for kind, count in rows}


def _flagged(connection: Connection, table: Table, flag: Flag) -> int:
    return int(
        connection.execute(
            select(func.count()).select_from(table).where(table.c.flags.op("&")(int(flag)) != 0)
        ).scalar_one()
    )


def _cursor_summary(cursor: dict[str, Any]) -> dict[str, Any]:
    """A short view of a cursor: complete scopes with their tip counts, and pending work."""
    summary: dict[str, Any] = {}
    for key, value in cursor.items():
        if isinstance(value, dict):
            summary[key] = {
                k: (len(v) if isinstance(v, list) and len(v) > 3 else v) for k, v in value.items()
            }
        else:
            summary[key] = value
    return summary


def stats(store: Store) -> dict[str, Any]:
    """Counts by kind, flagged nodes and links, sources with their cursors, and the time span.

    The time span is that of link events, leaving out dates flagged as suspect.
    """
    links = schema.links
    with store.connect() as connection:
        trusted = links.c.flags.op("&")(int(Flag.TIME_SUSPECT)) == 0
        first, last = connection.execute(
            select(func.min(links.c.time), func.max(links.c.time)).where(trusted)
        ).one()
        sources = [
            {
                "name": row.name,
                "kind": row.kind,
                "location": row.location,
                "cursor": _cursor_summary(json.loads(row.cursor)),
                "updated": row.updated,
            }
            for row in connection.execute(select(schema.sources).order_by(schema.sources.c.name))
        ]
        return {
            "nodes": _by_kind(connection, schema.nodes),
            "links": _by_kind(connection, links),
            "aliases": int(
                connection.execute(select(func.count()).select_from(schema.aliases)).scalar_one()
            ),
            "flagged": {
                "bots": _flagged(connection, schema.nodes, Flag.BOT),
                "time_suspect": _flagged(connection, schema.nodes, Flag.TIME_SUSPECT),
                "defects": _flagged(connection, schema.nodes, Flag.DEFECT),
            },
            "time_span": {"first": first, "last": last},
            "sources": sources,
        }


__all__ = ["stats"]
