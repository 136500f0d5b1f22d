"""Identity: resolve an alias (email, name, handle) to one person, and describe a person.

>>> from knotwork.store.engine import Store
>>> resolve(Store.open("sqlite://"), "ada@example.org")
Traceback (most recent call last):
...
knotwork.errors.NotFoundError: ada@example.org: no person has this alias
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, distinct, func, or_, select

from knotwork.errors import InputError, NotFoundError
from knotwork.model import Flag, LinkKind, NodeKind
from knotwork.store import schema
from knotwork.store.engine import Store

#: Link kinds from a person to the work item they took part in.
PERSON_TO_ITEM = tuple(
    k.value
    for k in (
        LinkKind.AUTHORED,
        LinkKind.REVIEWS,
        LinkKind.ACKS,
        LinkKind.TESTS,
        LinkKind.REPORTS,
        LinkKind.SUGGESTS,
        LinkKind.HANDLES,
    )
)


def _candidates(connection: Connection, text: str) -> list[int]:
    aliases, nodes = schema.aliases, schema.nodes
    stripped = text.strip()
    lowered = stripped.lower()
    # SQLite's lower() folds ASCII letters only: the exact spelling must match as well
    same = or_(func.lower(aliases.c.value) == lowered, aliases.c.value == stripped)
    queries = (
        select(aliases.c.person).where(aliases.c.kind == "email", same).distinct(),
        select(nodes.c.id).where(nodes.c.kind == NodeKind.PERSON.value, nodes.c.key == lowered),
        select(aliases.c.person).where(aliases.c.kind.in_(("name", "handle")), same).distinct(),
    )
    for query in queries:
        found = sorted(row[0] for row in connection.execute(query))
        if found:
            return found
    return []


def resolve(store: Store, alias: str) -> int:
    """The id of the one person known by ``alias`` (email, person key, name or handle)."""
    with store.connect() as connection:
        found = _candidates(connection, alias)
        if not found:
            raise NotFoundError("no person has this alias", place=alias)
        if len(found) > 1:
            keys = connection.execute(
                select(schema.nodes.c.key).where(schema.nodes.c.id.in_(found))
            ).scalars()
            raise InputError(
                "this alias names several people: " + ", ".join(sorted(keys)), place=alias
            )
        return found[0]


def _top(connection: Connection, query: Any, limit: int) -> list[dict[str, Any]]:
    nodes = schema.nodes
    counted = query.order_by(query.selected_columns[1].desc(), query.selected_columns[0])
    rows = connection.execute(counted.limit(limit)).all()
    names = dict(
        connection.execute(
            select(nodes.c.id, nodes.c.key).where(nodes.c.id.in_([r[0] for r in rows]))
        ).all()
    )
    return [{"key": names.get(node, str(node)), "count": int(count)} for node, count in rows]


def profile(store: Store, person: int, *, limit: int = 10) -> dict[str, Any]:
    """A person: name, aliases, first/last activity, links by kind, top files, co-workers.

    Files are those changed by commits the person authored; co-workers are the people who
    took part (authored, reviewed, acked, signed off, ...) in the same work items.
    """
    nodes, links, aliases = schema.nodes, schema.links, schema.aliases
    with store.connect() as connection:
        row = connection.execute(select(nodes).where(nodes.c.id == person)).one_or_none()
        if row is None:
            raise NotFoundError("no such person", place=str(person))
        own = links.alias("own")
        trusted = own.c.flags.op("&")(int(Flag.TIME_SUSPECT)) == 0
        first, last = connection.execute(
            select(func.min(own.c.time), func.max(own.c.time)).where(own.c.src == person, trusted)
        ).one()
        by_kind: dict[str, int] = dict(
            connection.execute(
                select(own.c.kind, func.count()).where(own.c.src == person).group_by(own.c.kind)
            ).all()
        )
        alias_rows = connection.execute(
            select(aliases.c.kind, aliases.c.value)
            .where(aliases.c.person == person)
            .order_by(aliases.c.kind, aliases.c.value)
        ).all()
        change = links.alias("change")
        files = select(change.c.dst, func.count()).join_from(own, change, change.c.src == own.c.dst)
        files = files.where(
            own.c.src == person,
            own.c.kind == LinkKind.AUTHORED.value,
            change.c.kind == LinkKind.CHANGED.value,
        ).group_by(change.c.dst)
        other = links.alias("other")
        coworkers = (
            select(other.c.src, func.count(distinct(own.c.dst)))
            .join_from(own, other, other.c.dst == own.c.dst)
            .where(
                own.c.src == person,
                own.c.kind.in_(PERSON_TO_ITEM),
                other.c.kind.in_(PERSON_TO_ITEM),
                other.c.src != person,
            )
            .group_by(other.c.src)
        )
        return {
            "id": row.id,
            "key": row.key,
            "name": row.name,
            "bot": bool(row.flags & Flag.BOT),
            "attrs": json.loads(row.attrs),
            "aliases": [{"kind": k, "value": v} for k, v in alias_rows],
            "first_activity": first,
            "last_activity": last,
            "links": {k: int(v) for k, v in sorted(by_kind.items())},
            "files": _top(connection, files, limit),
            "coworkers": _top(connection, coworkers, limit),
        }


__all__ = ["PERSON_TO_ITEM", "profile", "resolve"]
