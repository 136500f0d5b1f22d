"""Native activity: posts, needs, offers and state changes written into the work graph.

Everything a person does on Knotwork itself is written as a :class:`~knotwork.model.Record` of
source ``native`` through the store writer, in one transaction, so that authority and expertise
see it as they see commits. Every write names its **actor** (an alias resolved with
:func:`knotwork.store.identity.resolve`); input is checked before anything is written.

>>> from knotwork.graph.sample import sample_store
>>> store = sample_store()
>>> post_id = post(store, "ada@example.org", "Notes on ice hotplug",
...                cites=["drivers/net/ice/ice.c"],
...                now=1_700_000_000)
>>> node(store, post_id)["kind"], [n["key"] for n in cited(store, post_id)]
('post', ['drivers/net/ice/ice.c'])
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select

from knotwork.errors import InputError, KnotworkError, NotFoundError
from knotwork.ingest.base import Batch
from knotwork.model import Link, LinkKind, Node, NodeKind, Record, make_id
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.identity import resolve
from knotwork.store.writer import SourceInfo, write_batch

SOURCE = SourceInfo("native", "native", "knotwork")


class AuthorisationError(KnotworkError):
    """An actor tried to act for someone else, or on something they do not own."""

    exit_code = 6


def now_or(now: int | None) -> int:
    """``now``, or the current Unix time."""
    return int(_time.time()) if now is None else int(now)


def actor_id(store: Store, alias: str) -> int:
    """The person an actor alias names (``NotFoundError`` for an unknown alias)."""
    if not alias or not alias.strip():
        raise InputError("every write names its actor", place="--as")
    return resolve(store, alias)


def write(store: Store, record: Record) -> None:
    """Write one native record (one transaction; nothing when it fails)."""
    write_batch(store, SOURCE, Batch([record], [], {}))


def node(store: Store, node_id: int) -> dict[str, Any]:
    """A stored node as plain data (``NotFoundError`` when absent)."""
    with store.connect() as connection:
        row = connection.execute(select(schema.nodes).where(schema.nodes.c.id == node_id)).first()
        text = connection.execute(
            select(schema.texts.c.text).where(schema.texts.c.node == node_id)
        ).scalar_one_or_none()
    if row is None:
        raise NotFoundError("no such node", place=str(node_id))
    return {
        "id": int(row.id),
        "kind": row.kind,
        "key": row.key,
        "name": row.name,
        "time": row.time,
        "attrs": json.loads(row.attrs),
        "text": text or "",
    }


def find_item(store: Store, ref: str) -> int:
    """The node a reference names: an id, an exact key (path, sha, message id) or a sha prefix.

    People are not items: use an alias for them.
    """
    ref = ref.strip()
    with store.connect() as connection:
        nodes = schema.nodes
        if ref.isdigit():
            found = connection.execute(select(nodes.c.id).where(nodes.c.id == int(ref))).first()
            if found is not None:
                return int(found[0])
        rows = connection.execute(
            select(nodes.c.id).where(and_(nodes.c.key == ref, nodes.c.kind != "person"))
        ).all()
        if not rows and len(ref) >= 7:
            rows = connection.execute(
                select(nodes.c.id)
                .where(and_(nodes.c.key.like(ref + "%"), nodes.c.kind == "commit"))
                .limit(2)
            ).all()
    if not rows:
        raise NotFoundError("no item has this id or key", place=ref)
    if len(rows) > 1:
        raise InputError("this reference names several items", place=ref)
    return int(rows[0][0])


def cited(store: Store, item: int) -> list[dict[str, Any]]:
    """The nodes ``item`` cites."""
    with store.connect() as connection:
        ids = connection.execute(
            select(schema.links.c.dst).where(
                and_(schema.links.c.src == item, schema.links.c.kind == "cites")
            )
        ).scalars()
        return [node(store, int(i)) for i in sorted(set(ids))]


def _native_node(kind: NodeKind, person: int, now: int, text: str, attrs: dict[str, Any]) -> Node:
    key = f"native:{kind.value}:{make_id(str(person), str(now), text):016x}"
    name = " ".join(text.split())[:120]
    return Node.make(kind, key, name=name, time=now, attrs=attrs)


def _record(main: Node, links: list[Link], text: str) -> Record:
    return Record("native", main.id, f"native:{main.key}", [main], links, [], {main.id: text})


def link(src: int, dst: int, kind: LinkKind, now: int, tag: str = "", **attrs: Any) -> Link:
    """A native link event with a stable id."""
    return Link(
        make_id("native", str(src), str(dst), kind.value, str(now), tag),
        src,
        dst,
        kind,
        now,
        1.0,
        0,
        attrs,
    )


def _text(text: str) -> str:
    if not text or not text.strip():
        raise InputError("the text is empty", place="text")
    return text.strip()


def post(
    store: Store,
    actor: str,
    text: str,
    *,
    cites: Sequence[str] = (),
    purpose: str | None = None,
    now: int | None = None,
) -> int:
    """Publish a work item (a ``post``) by ``actor``, citing items; return its id."""
    person, moment, body = actor_id(store, actor), now_or(now), _text(text)
    targets = [find_item(store, ref) for ref in cites]
    main = _native_node(NodeKind.POST, person, moment, body, {})
    links = [link(person, main.id, LinkKind.AUTHORED, moment)]
    links += [link(main.id, t, LinkKind.CITES, moment) for t in targets]
    record = _record(main, links, body)
    if purpose:
        goal = Node.make(NodeKind.PROJECT, "purpose:" + purpose.strip(), name=purpose.strip())
        record.nodes.append(goal)
        record.links.append(link(main.id, goal.id, LinkKind.CITES, moment))
    write(store, record)
    return main.id


def need(
    store: Store,
    actor: str,
    text: str,
    *,
    until: int | None = None,
    cites: Sequence[str] = (),
    now: int | None = None,
) -> int:
    """Declare a need (what information or help ``actor`` needs), open until ``until``."""
    person, moment, body = actor_id(store, actor), now_or(now), _text(text)
    if until is not None and until <= moment:
        raise InputError("the end of the need is in the past", place="--until")
    targets = [find_item(store, ref) for ref in cites]
    main = _native_node(NodeKind.NEED, person, moment, body, {"until": until})
    links = [link(person, main.id, LinkKind.NEEDS, moment)]
    links += [link(main.id, t, LinkKind.CITES, moment) for t in targets]
    write(store, _record(main, links, body))
    return main.id


def parse_capacity(text: str) -> float:
    """Hours per week from ``4h/week``, ``4h``, ``1d/week`` (a day is 8 hours).

    >>> parse_capacity("4h/week"), parse_capacity("1d/week"), parse_capacity("2.5")
    (4.0, 8.0, 2.5)
    """
    value = text.strip().lower().removesuffix("/week").removesuffix("/w")
    factor = 1.0
    if value.endswith("d"):
        value, factor = value[:-1], 8.0
    elif value.endswith("h"):
        value = value[:-1]
    try:
        hours = float(value) * factor
    except ValueError:
        raise InputError("expected a capacity such as 4h/week", place=text) from None
    if hours <= 0:
        raise InputError("a capacity must be positive", place=text)
    return hours


def offer(
    store: Store,
    actor: str,
    text: str,
    *,
    capacity: str = "1h/week",
    until: int | None = None,
    now: int | None = None,
) -> int:
    """Offer spare capacity (hours per week) for what ``text`` says."""
    person, moment, body = actor_id(store, actor), now_or(now), _text(text)
    hours = parse_capacity(capacity)
    if until is not None and until <= moment:
        raise InputError("the end of the offer is in the past", place="--until")
    main = _native_node(NodeKind.OFFER, person, moment, body, {"capacity": hours, "until": until})
    write(store, _record(main, [link(person, main.id, LinkKind.OFFERS, moment)], body))
    return main.id


def owner(store: Store, item: int) -> int | None:
    """The person who authored, needed or offered ``item`` (its first such link)."""
    with store.connect() as connection:
        found = connection.execute(
            select(schema.links.c.src)
            .where(
                and_(
                    schema.links.c.dst == item,
                    schema.links.c.kind.in_(["authored", "needs", "offers"]),
                    schema.links.c.src.in_(
                        select(schema.nodes.c.id).where(schema.nodes.c.kind == "person")
                    ),
                )
            )
            .order_by(schema.links.c.time, schema.links.c.id)
            .limit(1)
        ).scalar_one_or_none()
    return None if found is None else int(found)


def state(store: Store, item: int) -> str:
    """The latest state set on ``item`` (``open`` when none was)."""
    with store.connect() as connection:
        rows = connection.execute(
            select(schema.links.c.attrs)
            .where(and_(schema.links.c.dst == item, schema.links.c.kind == "updates"))
            .order_by(schema.links.c.time.desc(), schema.links.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    return "open" if rows is None else str(json.loads(rows).get("state", "open"))


def set_state(
    store: Store, actor: str, item: int, new_state: str, *, now: int | None = None
) -> None:
    """Mark a need or offer ``fulfilled`` or ``withdrawn`` (only its owner may)."""
    if new_state not in ("fulfilled", "withdrawn", "open"):
        raise InputError("a state is open, fulfilled or withdrawn", place=new_state)
    person, moment = actor_id(store, actor), now_or(now)
    found = node(store, item)
    if found["kind"] not in ("need", "offer"):
        raise InputError("only needs and offers have states", place=str(item))
    if owner(store, item) != person:
        raise AuthorisationError("only the owner may change this state", place=str(item))
    change = link(person, item, LinkKind.UPDATES, moment, new_state, state=new_state)
    write(store, Record("native", change.id, f"native:state:{item}", [], [change]))


__all__ = [
    "SOURCE",
    "AuthorisationError",
    "actor_id",
    "cited",
    "find_item",
    "link",
    "need",
    "node",
    "now_or",
    "offer",
    "owner",
    "parse_capacity",
    "post",
    "set_state",
    "state",
    "write",
]
