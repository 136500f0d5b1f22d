"""Merging and splitting people, and suggesting who might be the same person.

Strong evidence merges by construction: the same normalised email is the same person node
(:func:`knotwork.model.person_key`) and git applies ``.mailmap`` before Knotwork reads it. An
explicit :func:`merge` folds one person into another *without destroying anything*: the
aliases and links of the merged person are re-pointed to the kept one, and the ``merges``
table records exactly which rows moved, so that :func:`split` puts them back and the graph
digest is the one before the merge. The merged person's node stays (with nothing pointing to
it); :func:`knotwork.store.identity.resolve` follows merges to the kept person.

Weaker evidence only makes a suggestion (:func:`knotwork.store.identity.suggest`), never a
merge; :func:`reject` records a suggestion a person turned down.

>>> from knotwork.store.engine import Store
>>> split(Store.open("sqlite://"), "ada@example.org")
Traceback (most recent call last):
...
knotwork.errors.NotFoundError: ada@example.org: no person has this alias
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select, update

from knotwork.errors import InputError, NotFoundError
from knotwork.model import Flag, LinkKind, NodeKind, canonical_json, make_id
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.identity import active_merges, candidates, follow

EXPLICIT = "explicit merge"


def _person(connection: Connection, text: str) -> int:
    """The person named by ``text``: a node id, a person key, or an alias (merges followed)."""
    stripped = text.strip()
    if stripped.isdigit():
        found = connection.execute(
            select(schema.nodes.c.id).where(
                schema.nodes.c.id == int(stripped), schema.nodes.c.kind == NodeKind.PERSON.value
            )
        ).scalar_one_or_none()
        if found is not None:
            return int(found)
    ids = candidates(connection, text)
    if not ids:
        raise NotFoundError("no person has this alias", place=text)
    if len(ids) > 1:
        raise InputError("this alias names several people; use an id", place=text)
    return ids[0]


def merge(store: Store, kept: str, merged: str, *, evidence: str = EXPLICIT) -> dict[str, Any]:
    """Fold the person ``merged`` into ``kept`` (ids, keys or aliases); record what moved."""
    nodes = schema.nodes
    with store.begin() as connection:
        done = active_merges(connection)
        a, b = _person(connection, kept), _person(connection, merged)
        for text, node in ((kept, a), (merged, b)):
            if node in done:
                raise InputError(f"already merged into person {done[node]}", place=text)
        if a == b:
            raise InputError(f"{kept!r} and {merged!r} are already one person", place=merged)
        moved = _move(connection, a, b)
        inserted = connection.execute(
            schema.merges.insert().values(
                kept=a,
                merged=b,
                evidence=evidence,
                time=int(time.time()),
                moved=canonical_json(moved),
            )
        ).inserted_primary_key
        assert inserted is not None
        row = inserted[0]
        keys = dict(
            connection.execute(select(nodes.c.id, nodes.c.key).where(nodes.c.id.in_((a, b)))).all()
        )
    return {
        "merge": int(row),
        "kept": {"id": a, "key": keys[a]},
        "merged": {"id": b, "key": keys[b]},
        "evidence": evidence,
        "moved": {k: len(v) for k, v in moved.items()},
    }


def reject(store: Store, one: str, other: str) -> dict[str, Any]:
    """Record that ``one`` and ``other`` are two people: no longer suggested as one."""
    with store.begin() as connection:
        a, b = sorted((_person(connection, one), _person(connection, other)))
        if a == b:
            raise InputError(f"{one!r} and {other!r} are one person already", place=other)
        table = schema.separate
        known = connection.execute(select(table.c.a).where(table.c.a == a, table.c.b == b)).first()
        if known is None:
            connection.execute(table.insert().values(a=a, b=b, time=int(time.time())))
    return {"a": a, "b": b}


def _move(connection: Connection, kept: int, merged: int) -> dict[str, list[int]]:
    """Re-point every alias and link end of ``merged`` to ``kept``; return the rows moved."""
    links, aliases = schema.links, schema.aliases
    moved: dict[str, list[int]] = {}
    for key, table, column in (
        ("aliases", aliases, "person"),
        ("src", links, "src"),
        ("dst", links, "dst"),
    ):
        where = table.c[column] == merged
        moved[key] = sorted(
            int(i) for i in connection.execute(select(table.c.id).where(where)).scalars()
        )
        if moved[key]:
            connection.execute(update(table).values({column: kept}).where(where))
    return moved


def apply_merges(store: Store) -> int:
    """Fold rows ingested since a merge (they name the merged person) into the kept one.

    Each merge's record of moved rows grows by them, so :func:`split` still restores them.
    Returns the number of rows moved.
    """
    merges = schema.merges
    count = 0
    with store.begin() as connection:
        rows = connection.execute(
            select(merges.c.id, merges.c.kept, merges.c.merged, merges.c.moved)
            .where(merges.c.split.is_(None))
            .order_by(merges.c.id)
        ).all()
        for row in rows:
            fresh = _move(connection, row.kept, row.merged)
            if not any(fresh.values()):
                continue
            moved = json.loads(row.moved)
            for key, ids in fresh.items():
                moved[key] = sorted(set(moved[key]) | set(ids))
                count += len(ids)
            connection.execute(
                update(merges).values(moved=canonical_json(moved)).where(merges.c.id == row.id)
            )
    return count


def join_paths(store: Store) -> int:
    """Point mentions of a path (mail, chat, trackers) at git's file of that path.

    A path mentioned in a message is a file node keyed by the path alone; git's files are keyed
    by repository (root commit) and path, so the two never meet by id. Each ``mentions`` link
    from another source to a file is pointed at the git file with that path when exactly one
    repository in the store has it, else at the path-only node. The choice depends only on
    the files stored, not on the order of ingests: a second repository with the same path sends
    its mentions back to the path-only node. Returns the number of links re-pointed.

    >>> from knotwork.store.engine import Store
    >>> join_paths(Store.open("sqlite://"))
    0
    """
    nodes, links = schema.nodes, schema.links
    count = 0
    with store.begin() as connection:
        rows = connection.execute(
            select(links.c.id, links.c.dst, nodes.c.key)
            .join(nodes, nodes.c.id == links.c.dst)
            .where(
                links.c.kind == LinkKind.MENTIONS.value,
                links.c.source != "git",
                nodes.c.kind == NodeKind.FILE.value,
            )
        ).all()
        if not rows:
            return 0
        paths = sorted({str(key) for _, _, key in rows})
        path_ids = {path: make_id("item", "file", path) for path in paths}  # once a path
        owners: dict[str, list[int]] = defaultdict(list)
        for start in range(0, len(paths), 900):
            found = connection.execute(
                select(nodes.c.id, nodes.c.key).where(
                    nodes.c.kind == NodeKind.FILE.value, nodes.c.key.in_(paths[start : start + 900])
                )
            )
            for node_id, key in found:
                if node_id != make_id("item", "file", key):
                    owners[key].append(int(node_id))
        for link_id, dst, key in rows:
            git_files = owners.get(str(key), [])
            target = git_files[0] if len(git_files) == 1 else path_ids[str(key)]
            if target != dst:
                connection.execute(update(links).values(dst=target).where(links.c.id == link_id))
                count += 1
    return count


def link_platforms(store: Store) -> list[dict[str, Any]]:
    """Merge people tied by strong evidence: the same platform handle (``ada@github``).

    Rows ingested since earlier merges are folded first (:func:`apply_merges`).

    A handle names one account on a platform, so two people holding it (one seen with a
    commit email, one only by the handle) are one. The person keyed by an email is kept
    (then the smallest key). Bots are left alone. Returns the merges made.
    """
    nodes, aliases = schema.nodes, schema.aliases
    apply_merges(store)
    with store.connect() as connection:
        done = active_merges(connection)
        keys = dict(
            connection.execute(
                select(nodes.c.id, nodes.c.key).where(
                    nodes.c.kind == NodeKind.PERSON.value,
                    nodes.c.flags.op("&")(int(Flag.BOT)) == 0,
                )
            ).all()
        )
        holders: dict[str, set[int]] = defaultdict(set)
        query = select(aliases.c.value, aliases.c.person).where(aliases.c.kind == "handle")
        for value, person in connection.execute(query):
            if person in keys and person not in done:
                holders[value].add(int(person))
    made: list[dict[str, Any]] = []
    merged: set[int] = set()
    for handle in sorted(holders):
        people = sorted(holders[handle] - merged, key=lambda p: ("@" not in keys[p], keys[p]))
        for other in people[1:]:
            made.append(
                merge(store, str(people[0]), str(other), evidence=f"platform link: {handle}")
            )
            merged.add(other)
    return made


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), 5_000):
        yield ids[start : start + 5_000]


def split(store: Store, person: str) -> dict[str, Any]:
    """Undo the merge of ``person`` (the merged one): its rows go back exactly where they were."""
    merges, links, aliases = schema.merges, schema.links, schema.aliases
    with store.begin() as connection:
        done = active_merges(connection)
        node = _merged_person(connection, person, done)
        if node not in done:
            absorbed = sorted(m for m, k in done.items() if k == node)
            hint = f"; it absorbed {', '.join(map(str, absorbed))}: split one of those" * bool(
                absorbed
            )
            raise InputError("this person was not merged into anyone" + hint, place=person)
        kept = done[node]
        if kept in done:
            raise InputError(
                f"person {kept} it was merged into is itself merged into {done[kept]}: "
                f"split {kept} first",
                place=person,
            )
        row = connection.execute(
            select(merges.c.id, merges.c.moved).where(
                merges.c.merged == node, merges.c.split.is_(None)
            )
        ).one()
        moved = json.loads(row.moved)
        for key, table, column in (
            ("aliases", aliases, "person"),
            ("src", links, "src"),
            ("dst", links, "dst"),
        ):
            for chunk in _chunks(moved[key]):
                connection.execute(
                    update(table).values({column: node}).where(table.c.id.in_(chunk))
                )
        connection.execute(
            update(merges).values(split=int(time.time())).where(merges.c.id == row.id)
        )
    return {"merge": int(row.id), "kept": kept, "split": node}


def _merged_person(connection: Connection, text: str, done: dict[int, int]) -> int:
    """The person named by ``text`` *without* following merges: id, key, or a moved alias."""
    nodes = schema.nodes
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    by_key = connection.execute(
        select(nodes.c.id).where(
            nodes.c.kind == NodeKind.PERSON.value, nodes.c.key == stripped.lower()
        )
    ).scalar_one_or_none()
    if by_key is not None:
        return int(by_key)
    value, lowered = schema.aliases.c.value, stripped.lower()
    alias_ids = set(
        connection.execute(
            select(schema.aliases.c.id).where((func.lower(value) == lowered) | (value == stripped))
        ).scalars()
    )
    rows = connection.execute(
        select(schema.merges.c.merged, schema.merges.c.moved).where(schema.merges.c.split.is_(None))
    ).all()
    owners = {m for m, moved in rows if alias_ids & set(json.loads(moved)["aliases"])}
    if len(owners) == 1:
        return int(owners.pop())
    return _person(connection, text)


def history(store: Store, person: str) -> dict[str, Any]:
    """A person (merges followed) with their aliases and every merge that involved them."""
    nodes, aliases, merges = schema.nodes, schema.aliases, schema.merges
    with store.connect() as connection:
        node = follow(active_merges(connection), _person(connection, person))
        key = connection.execute(select(nodes.c.key).where(nodes.c.id == node)).scalar_one()
        alias_rows = connection.execute(
            select(aliases.c.kind, aliases.c.value)
            .where(aliases.c.person == node)
            .order_by(aliases.c.kind, aliases.c.value)
        ).all()
        merge_rows = connection.execute(
            select(merges)
            .where((merges.c.kept == node) | (merges.c.merged == node))
            .order_by(merges.c.id)
        ).all()
        related = {r.kept for r in merge_rows} | {r.merged for r in merge_rows}
        keys = dict(
            connection.execute(select(nodes.c.id, nodes.c.key).where(nodes.c.id.in_(related))).all()
        )
    return {
        "id": node,
        "key": key,
        "aliases": [{"kind": k, "value": v} for k, v in alias_rows],
        "merges": [
            {
                "merge": r.id,
                "kept": keys.get(r.kept, str(r.kept)),
                "merged": keys.get(r.merged, str(r.merged)),
                "evidence": r.evidence,
                "time": r.time,
                "split": r.split,
            }
            for r in merge_rows
        ],
    }


__all__ = [
    "EXPLICIT",
    "apply_merges",
    "history",
    "join_paths",
    "link_platforms",
    "merge",
    "reject",
    "split",
]
