"""Who a proposal affected, kept with the decision: one snapshot per proposal.

The affected people of a proposal (:func:`knotwork.services.decisions.affected`) are a
personalized PageRank over the whole graph; participation needs them for every proposal, and
recomputing them made its cost grow with the number of proposals. So a proposal keeps a
**snapshot** of who it affected (migration ``0007_affected``): taken when it is made
(``stage="made"``) and taken again, for good, the first time its decision is read after the
close (``stage="closed"``: who was affected when it was decided). Participation reads the
snapshots in two queries; a proposal without one (made before the migration) gets it on
first use. People who opted out or were erased since are left out when reading.

>>> from knotwork.graph.sample import sample_store
>>> from knotwork.services.decisions import propose
>>> store = sample_store()
>>> p = propose(store, "ada@example.org", "Move ice", affects=["drivers/net/ice/"],
...             closes=1_700_100_000, now=1_700_000_000)
>>> stage(store, p), [key for _, key in people_affected(store, [p])[p]]
('made', ['bob@example.org', 'ada@example.org'])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table, Text, select

from knotwork.store import schema
from knotwork.store.engine import Store

#: The snapshots' tables (own metadata: derived data of the decisions, not graph).
_METADATA = MetaData()
affected_runs = Table(
    "affected_runs",
    _METADATA,
    Column("proposal", BigInteger, primary_key=True, autoincrement=False),
    Column("stage", String(16), nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("people", Integer, nullable=False),
)
affected_people = Table(
    "affected",
    _METADATA,
    Column("proposal", BigInteger, primary_key=True, autoincrement=False),
    Column("person", BigInteger, primary_key=True, autoincrement=False),
    Column("strength", Float, nullable=False),
    Column("evidence", Text, nullable=False),
)

#: Rows per ``IN`` list (SQLite allows 32,766 variables; stay well below).
_CHUNK = 900


def record(
    store: Store, proposal: int, people: Sequence[dict[str, Any]], stage: str, now: int
) -> None:
    """Keep ``people`` (entries of :func:`~knotwork.services.decisions.affected`) as the
    snapshot of ``proposal`` at ``stage`` (``made`` or ``closed``), replacing an older one."""
    rows = [
        {
            "proposal": proposal,
            "person": int(p["person"]),
            "strength": float(p["strength"]),
            "evidence": json.dumps(p["evidence"]),
        }
        for p in people
    ]
    with store.begin() as connection:
        connection.execute(affected_people.delete().where(affected_people.c.proposal == proposal))
        connection.execute(affected_runs.delete().where(affected_runs.c.proposal == proposal))
        connection.execute(
            affected_runs.insert().values(
                proposal=proposal, stage=stage, time=int(now), people=len(rows)
            )
        )
        if rows:
            connection.execute(affected_people.insert(), rows)


def stage(store: Store, proposal: int) -> str | None:
    """The stage of ``proposal``'s snapshot (``made``, ``closed``), ``None`` without one."""
    with store.connect() as connection:
        found = connection.execute(
            select(affected_runs.c.stage).where(affected_runs.c.proposal == proposal)
        ).scalar_one_or_none()
    return None if found is None else str(found)


def snapshot(store: Store, proposal: int) -> list[dict[str, Any]] | None:
    """The kept affected people of ``proposal`` as :func:`affected` gives them (strongest
    first), or ``None`` when it has no snapshot."""
    if stage(store, proposal) is None:
        return None
    hidden = _hidden(store)
    nodes = schema.nodes
    with store.connect() as connection:
        rows = connection.execute(
            select(
                affected_people.c.person,
                nodes.c.key,
                affected_people.c.strength,
                affected_people.c.evidence,
            )
            .join(nodes, nodes.c.id == affected_people.c.person)
            .where(affected_people.c.proposal == proposal)
        ).all()
    found = [
        {"person": int(p), "key": str(k), "strength": float(s), "evidence": json.loads(e)}
        for p, k, s, e in rows
        if int(p) not in hidden
    ]
    return sorted(found, key=lambda r: (-r["strength"], r["key"]))


def people_affected(store: Store, proposals: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """(person id, key) of the people each of ``proposals`` affected, strongest first, from
    the snapshots; a proposal without one is computed now and its snapshot kept."""
    from knotwork.services.decisions import affected

    wanted = [int(p) for p in proposals]
    result: dict[int, list[tuple[int, str]]] = {p: [] for p in wanted}
    kept: set[int] = set()
    hidden = _hidden(store)
    nodes = schema.nodes
    with store.connect() as connection:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            kept.update(
                int(p)
                for p in connection.execute(
                    select(affected_runs.c.proposal).where(affected_runs.c.proposal.in_(chunk))
                ).scalars()
            )
            rows = connection.execute(
                select(
                    affected_people.c.proposal,
                    affected_people.c.person,
                    nodes.c.key,
                    affected_people.c.strength,
                )
                .join(nodes, nodes.c.id == affected_people.c.person)
                .where(affected_people.c.proposal.in_(chunk))
                .order_by(
                    affected_people.c.proposal, affected_people.c.strength.desc(), nodes.c.key
                )
            ).all()
            for proposal, person, key, _ in rows:
                if int(person) not in hidden:
                    result[int(proposal)].append((int(person), str(key)))
    for proposal in wanted:
        if proposal not in kept:
            people = affected(store, proposal)
            record(store, proposal, people, "made", _now())
            result[proposal] = [(int(p["person"]), str(p["key"])) for p in people]
    return result


def _hidden(store: Store) -> set[int]:
    from knotwork.store.erase import opted_out

    return opted_out(store)


def _now() -> int:
    from knotwork.services.native import now_or

    return now_or(None)


__all__ = ["affected_people", "affected_runs", "people_affected", "record", "snapshot", "stage"]
