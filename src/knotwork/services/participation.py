"""Participation index: decisions a person took part in, over the decisions that affected them.

Per person, ``affected`` counts the proposals whose affected people include them (as
each proposal keeps them: :mod:`knotwork.services.decisions_affected`, so that the cost does
not grow with the number of proposals times the graph), ``responded`` those of them they
answered, and ``index = responded / affected``. Per declared group (``member_of`` links), the
counts are the sums over its members, so that the figures add up, and a group of fewer than
``k_min`` members is suppressed (:mod:`knotwork.services.privacy`).

>>> from knotwork.graph.sample import sample_store
>>> from knotwork.services.decisions import propose, respond
>>> store = sample_store()
>>> p = propose(store, "ada@example.org", "Move ice", affects=["drivers/net/ice/"],
...             closes=1_700_100_000, now=1_700_000_000)
>>> respond(store, p, "bob@example.org", "agree", now=1_700_000_100)
>>> [(r["key"], r["affected"], r["responded"]) for r in participation(store)["people"]]
[('ada@example.org', 1, 0), ('bob@example.org', 1, 1)]
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from knotwork.services.decisions_affected import people_affected
from knotwork.services.privacy import DEFAULT_K_MIN, Ledger, release
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.erase import opted_out


def _groups(store: Store) -> dict[int, tuple[str, set[int]]]:
    with store.connect() as connection:
        names = dict(
            connection.execute(
                select(schema.nodes.c.id, schema.nodes.c.key).where(schema.nodes.c.kind == "group")
            ).all()
        )
        rows = connection.execute(
            select(schema.links.c.src, schema.links.c.dst).where(schema.links.c.kind == "member_of")
        ).all()
    result: dict[int, tuple[str, set[int]]] = {}
    for person, group in rows:
        if group in names:
            result.setdefault(int(group), (str(names[group]), set()))[1].add(int(person))
    return result


def _proposals(store: Store) -> list[int]:
    """The ids of every proposal (decision nodes with a closing date)."""
    nodes = schema.nodes
    with store.connect() as connection:
        rows = connection.execute(
            select(nodes.c.id, nodes.c.attrs).where(nodes.c.kind == "decision")
        ).all()
    return sorted(int(i) for i, attrs in rows if "closes" in json.loads(attrs))


def _answered(store: Store) -> dict[int, set[int]]:
    """Per proposal, the people who responded to it."""
    links = schema.links
    with store.connect() as connection:
        rows = connection.execute(
            select(links.c.dst, links.c.src).where(links.c.kind == "responds")
        ).all()
    result: dict[int, set[int]] = {}
    for proposal, person in rows:
        result.setdefault(int(proposal), set()).add(int(person))
    return result


def participation(
    store: Store,
    *,
    person: int | None = None,
    k_min: int = DEFAULT_K_MIN,
    ledger: Ledger | None = None,
) -> dict[str, Any]:
    """Per-person (or one person's) and per-group participation (groups k-anonymous; with a
    ``ledger``, also withheld when they would differ from a group released earlier by fewer
    than ``k_min`` people)."""
    counts: dict[int, list[int]] = {}
    keys: dict[int, str] = {}
    proposals = _proposals(store)
    answered = _answered(store)
    for proposal, reached in people_affected(store, proposals).items():
        for entry, key in reached:
            keys[entry] = key
            pair = counts.setdefault(entry, [0, 0])
            pair[0] += 1
            pair[1] += entry in answered.get(proposal, ())
    people = [
        {"person": p, "key": keys[p], "affected": a, "responded": r, "index": round(r / a, 4)}
        for p, (a, r) in counts.items()
        if person is None or p == person
    ]
    groups = []
    hidden = opted_out(store)
    for group, (name, everyone) in sorted(_groups(store).items(), key=lambda g: g[1][0]):
        members = everyone - hidden  # people who opted out count in no group
        affected_sum = sum(counts.get(m, [0, 0])[0] for m in members)
        responded_sum = sum(counts.get(m, [0, 0])[1] for m in members)
        value = {
            "affected": affected_sum,
            "responded": responded_sum,
            "index": round(responded_sum / affected_sum, 4) if affected_sum else None,
        }
        if ledger is None:
            released = release(members, value, k_min=k_min)
        else:
            released = ledger.release(members, value)
        groups.append({"group": group, "key": name, **released.to_dict()})
    return {"people": sorted(people, key=lambda r: r["key"]), "groups": groups, "k_min": k_min}


__all__ = ["participation"]
