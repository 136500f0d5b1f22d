"""Erase a person completely, opt people out, purge old events, and keep erased people out.

:func:`erase` removes the person's node, every link to or from them, their aliases, the items
they authored (with those items' links and texts), merge and rejection rows naming them, and
scrubs every alias of theirs (and their name) out of the texts, names and attributes that
remain, and takes the keyed hash of their id out of every released set
(:func:`knotwork.store.released.forget`). A *tombstone* keeps a keyed hash of the person's id
and of each alias, and :func:`keep_out` (called by the writer on every batch) drops them when
the sources are read again. On SQLite the database is vacuumed and its WAL truncated, so no
free page keeps a copy.

>>> from knotwork.graph.sample import sample_store
>>> store = sample_store()
>>> erase(store, "ada@example.org", key=b"k")["aliases"] >= 1
True
>>> from knotwork.store.identity import candidates
>>> with store.connect() as c:
...     candidates(c, "ada@example.org")
[]
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, delete, func, or_, select, text, update

from knotwork.errors import NotFoundError
from knotwork.model import Flag, LinkKind, NodeKind, Record
from knotwork.store import released, schema
from knotwork.store.accounts import forget_people, keyed_hash, secret_key
from knotwork.store.engine import Store
from knotwork.store.identity import forget_profiles, resolve
from knotwork.store.jobs import prune_jobs

#: The kept snapshots of who each proposal affected (migration 0007; declared by
#: ``services/decisions_affected.py``): an erased person's rows go too.
AFFECTED = sa.table("affected", sa.column("person"))

ERASED = "[erased]"
#: Node flag of a person who opted out: left out of every result and group count
#: (:meth:`knotwork.graph.view.GraphView.people` leaves them out for every service).
OPTED_OUT = int(Flag.OPTED_OUT)


def _tomb(value: str | int, key: bytes) -> str:
    return keyed_hash(f"tomb:{str(value).strip().lower()}", key)


def _chunks(ids: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _scrub(connection: Connection, words: list[str]) -> None:
    """Replace every word (any letter case) in texts, node names and attributes."""
    chosen = sorted({w for w in words if len(w) >= 3}, key=len, reverse=True)
    if not chosen:
        return
    pattern = re.compile("|".join(re.escape(w) for w in chosen), re.IGNORECASE)
    targets = (
        (schema.texts, "node", "text"),
        (schema.nodes, "id", "name"),
        (schema.nodes, "id", "attrs"),
    )
    for table, key, column in targets:
        col = table.c[column]
        hit = or_(*(func.lower(col).contains(w.lower()) for w in chosen), col.contains(chosen[0]))
        rows = connection.execute(select(table.c[key], col).where(hit)).all()
        for ident, value in rows:
            new = pattern.sub(ERASED, value)
            if new != value:
                connection.execute(update(table).where(table.c[key] == ident).values({column: new}))


def person_key(store: Store, person: int) -> str:
    """The key of the person with id ``person`` (NotFoundError if there is none)."""
    nodes = schema.nodes
    with store.connect() as connection:
        key = connection.execute(
            select(nodes.c.key).where(nodes.c.id == person, nodes.c.kind == NodeKind.PERSON.value)
        ).scalar_one_or_none()
    if key is None:
        raise NotFoundError("no such person", place=str(person))
    return str(key)


def erase(store: Store, person: str | int, *, key: bytes | None = None) -> dict[str, Any]:
    """Erase ``person`` (an alias, or an id as int) completely; returns what was removed."""
    key = secret_key() if key is None else key
    pid = resolve(store, person_key(store, person) if isinstance(person, int) else person)
    nodes, links, aliases, texts = schema.nodes, schema.links, schema.aliases, schema.texts
    with store.begin() as connection:
        row = connection.execute(select(nodes.c.key, nodes.c.name).where(nodes.c.id == pid)).one()
        values = list(
            connection.execute(select(aliases.c.value).where(aliases.c.person == pid)).scalars()
        )
        merged = list(
            connection.execute(
                select(schema.merges.c.merged).where(schema.merges.c.kept == pid)
            ).scalars()
        )
        people = [pid, *merged]
        authored = list(
            connection.execute(
                select(links.c.dst).where(
                    links.c.src.in_(people), links.c.kind == LinkKind.AUTHORED.value
                )
            ).scalars()
        )
        gone = sorted(set(people) | set(authored))
        counts = {"nodes": 0, "links": 0, "aliases": 0}
        for chunk in _chunks(gone):
            counts["links"] += connection.execute(
                delete(links).where(or_(links.c.src.in_(chunk), links.c.dst.in_(chunk)))
            ).rowcount
            connection.execute(delete(texts).where(texts.c.node.in_(chunk)))
            connection.execute(delete(schema.scores).where(schema.scores.c.node.in_(chunk)))
            counts["nodes"] += connection.execute(
                delete(nodes).where(nodes.c.id.in_(chunk))
            ).rowcount
            counts["aliases"] += connection.execute(
                delete(aliases).where(aliases.c.person.in_(chunk))
            ).rowcount
        m, s = schema.merges, schema.separate
        connection.execute(delete(m).where(or_(m.c.kept.in_(people), m.c.merged.in_(people))))
        connection.execute(delete(s).where(or_(s.c.a.in_(people), s.c.b.in_(people))))
        connection.execute(delete(schema.users).where(schema.users.c.person.in_(people)))
        connection.execute(delete(AFFECTED).where(AFFECTED.c.person.in_(people)))
        released.forget(connection, people, key)  # their hashes leave every released set
        words = [*values, row.key, row.name, *(v.split("@")[0] for v in values if "@" in v)]
        words = [w for w in words if w and not w.startswith("name:")] + [
            row.key[5:] for _ in [0] if row.key.startswith("name:")
        ]
        _scrub(connection, words)
        stamp = int(time.time())
        for value in {*(str(p) for p in people), *values, row.key}:
            digest = _tomb(value, key)
            if (
                connection.execute(
                    select(schema.tombstones.c.digest).where(schema.tombstones.c.digest == digest)
                ).first()
                is None
            ):
                connection.execute(schema.tombstones.insert().values(digest=digest, time=stamp))
    prune_jobs(store, older_than_days=0)  # finished jobs' reports may quote the person
    _compact(store)
    _forget_views()
    return {"person": pid, **counts}


def _compact(store: Store) -> None:
    if store.backend != "sqlite":
        return
    with store.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM"))
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def _forget_views() -> None:
    """Drop cached views, rankings, profiles and account people, which may hold the person."""
    from knotwork.graph import view
    from knotwork.services import expertise

    with view._LOCK:
        view._VIEWS.clear()
    expertise._LATEST.clear()
    forget_profiles()
    forget_people()
    released.forget_memos()


def keep_out(connection: Connection, records: list[Record]) -> list[Record]:
    """The records without erased people: a record they authored is dropped; otherwise their
    nodes, links, aliases and the mentions of their aliases in texts are taken out."""
    if connection.execute(select(schema.tombstones.c.digest).limit(1)).first() is None:
        return records
    key = secret_key()
    stones = set(connection.execute(select(schema.tombstones.c.digest)).scalars())
    kept: list[Record] = []
    for record in records:
        dead = {
            n.id for n in record.nodes if n.kind is NodeKind.PERSON and _tomb(n.id, key) in stones
        }
        dead |= {a.person for a in record.aliases if _tomb(a.value, key) in stones}
        if not dead:
            kept.append(record)
            continue
        if any(k.kind is LinkKind.AUTHORED and k.src in dead for k in record.links):
            continue
        words = [a.value for a in record.aliases if a.person in dead]
        words += [n.name for n in record.nodes if n.id in dead and n.name]
        texts = {}
        for node, body in record.texts.items():
            for word in words:
                body = body.replace(word, ERASED)
            texts[node] = body
        kept.append(
            Record(
                record.source,
                record.key,
                record.place,
                [n for n in record.nodes if n.id not in dead],
                [k for k in record.links if k.src not in dead and k.dst not in dead],
                [a for a in record.aliases if a.person not in dead],
                texts,
                record.defects,
            )
        )
    return kept


def opt_out(store: Store, person: str, *, out: bool = True) -> int:
    """Flag ``person`` (an alias) as opted out (or back in); returns the person's id."""
    pid = resolve(store, person)
    nodes = schema.nodes
    with store.begin() as connection:
        flags = connection.execute(select(nodes.c.flags).where(nodes.c.id == pid)).scalar_one()
        new = flags | OPTED_OUT if out else flags & ~OPTED_OUT
        connection.execute(update(nodes).where(nodes.c.id == pid).values(flags=new))
    _forget_views()
    return pid


def opted_out(store: Store) -> set[int]:
    """The ids of the people who opted out."""
    nodes = schema.nodes
    with store.connect() as connection:
        rows = connection.execute(
            select(nodes.c.id).where(
                nodes.c.kind == NodeKind.PERSON.value, nodes.c.flags.op("&")(OPTED_OUT) != 0
            )
        ).scalars()
        return {int(r) for r in rows}


def purge(store: Store, *, older_than_days: float, now: int | None = None) -> int:
    """Retention: delete links (events) older than the window; returns how many."""
    moment = int(time.time()) if now is None else now
    cutoff = moment - int(older_than_days * 86_400)
    links = schema.links
    with store.begin() as connection:
        count = connection.execute(delete(links).where(links.c.time < cutoff)).rowcount
    _forget_views()
    return int(count)


__all__ = [
    "ERASED",
    "OPTED_OUT",
    "erase",
    "keep_out",
    "opt_out",
    "opted_out",
    "person_key",
    "purge",
]
