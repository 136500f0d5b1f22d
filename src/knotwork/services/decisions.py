"""Decisions that reach the people they affect: proposals, affected people, responses, outcomes.

A **proposal** is a ``decision`` node authored by its proposer, with ``affects`` links to
items, groups or paths (every file under a path prefix). The **affected people** are computed
from the graph: the personalized PageRank (on the knowledge graph of
:data:`~knotwork.services.market.PROXIMITY_WEIGHTS`) from the affected items leaves mass on
people; those with at least :data:`AFFECTED_THRESHOLD` of the largest person's mass are
affected, with the items through which it came as evidence; members of affected groups are
affected too (``group:NAME`` with no declared group of that name names an emergent group of
:mod:`knotwork.services.groups`, by id or label word or path).
Who a proposal affects is kept with it (:mod:`knotwork.services.decisions_affected`): a
snapshot when it is made, and one for good when its decision is first read after the close,
which the turnout of a closed decision and participation count; :func:`affected` itself
always computes it from the graph as it is now.
A **response** is a ``responds`` link from the person to the proposal; it can be
changed until the proposal closes (each change is kept; the latest counts). Once closed, the
outcome (:mod:`knotwork.services.decisions_rules`) is written as a ``document`` node citing
the proposal, so that the decision and its outcome are items in the graph.

>>> from knotwork.graph.sample import sample_store
>>> store = sample_store()
>>> p = propose(store, "ada@example.org", "Move ice to the new API", affects=["drivers/net/ice/"],
...             closes=1_700_100_000, now=1_700_000_000)
>>> [a["key"] for a in affected(store, p)]
['bob@example.org', 'ada@example.org']
>>> respond(store, p, "bob@example.org", "agree", now=1_700_000_100)
>>> decision(store, p, now=1_700_200_000)["result"]
'passed'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import and_, select

from knotwork.errors import InputError, NotFoundError
from knotwork.graph.view import cached_view
from knotwork.model import LinkKind, Node, NodeKind, Record, make_id
from knotwork.services.decisions_affected import record, snapshot, stage
from knotwork.services.decisions_rules import check, options_for, outcome
from knotwork.services.market import PROXIMITY_WEIGHTS
from knotwork.services.native import (
    AuthorisationError,
    actor_id,
    find_item,
    link,
    node,
    now_or,
    owner,
    write,
)
from knotwork.services.native_walk import walk_from, walk_matrix
from knotwork.store import schema
from knotwork.store.engine import Store

#: Share of the largest person's mass above which a person counts as affected.
AFFECTED_THRESHOLD = 0.06

#: The walk of affected people: the knowledge graph without decisions' own links, so that
#: mass does not flow from the affected items through proposals to their authors.
AFFECTED_WEIGHTS = {k: w for k, w in PROXIMITY_WEIGHTS.items() if k not in ("affects", "responds")}


def _targets(store: Store, ref: str) -> list[int]:
    """Items a reference affects: a group (``group:NAME`` or key), an item, or a path prefix."""
    with store.connect() as connection:
        nodes = schema.nodes
        name = ref.removeprefix("group:")
        group = connection.execute(
            select(nodes.c.id).where(
                and_(nodes.c.kind == "group", (nodes.c.key == name) | (nodes.c.name == name))
            )
        ).first()
        if group is not None:
            return [int(group[0])]
    if ref.startswith("group:"):
        return _emergent(store, name)
    with store.connect() as connection:
        if ref.endswith("/"):
            files = connection.execute(
                select(nodes.c.id).where(and_(nodes.c.kind == "file", nodes.c.key.like(ref + "%")))
            ).scalars()
            found = [int(f) for f in files]
            if found:
                return found
            raise NotFoundError("no file under this path", place=ref)
    return [find_item(store, ref)]


def _emergent(store: Store, name: str) -> list[int]:
    """The members (person ids) of the emergent group (:mod:`knotwork.services.groups`) with
    id ``name`` or labelled by the word or path ``name``, when no declared group has it."""
    from knotwork.services.groups import groups

    found = groups(store)
    wanted = name.strip().lower()
    chosen = [
        g
        for g in found.groups
        if wanted == str(g.id) or wanted in g.terms or wanted in [p.lower() for p in g.paths]
    ]
    if not chosen:
        raise NotFoundError("no declared or emergent group has this name", place=name)
    if len(chosen) > 1 and not wanted.isdigit():
        ids = ", ".join(str(g.id) for g in chosen)
        raise InputError(f"several emergent groups have this label (ids {ids})", place=name)
    if chosen[0].members is None:
        raise InputError(f"the emergent group has fewer than {found.k_min} people", place=name)
    return list(chosen[0].members)


def propose(
    store: Store,
    actor: str,
    text: str,
    *,
    affects: Sequence[str],
    closes: int,
    kind: str = "consent",
    options: Sequence[str] = (),
    quorum: float = 0.0,
    now: int | None = None,
) -> int:
    """Open a proposal by ``actor`` affecting ``affects``, closing at ``closes``; its id."""
    person, moment = actor_id(store, actor), now_or(now)
    if not text.strip():
        raise InputError("the proposal is empty", place="text")
    if closes <= moment:
        raise InputError("the closing date is in the past", place="--closes")
    if not affects:
        raise InputError("a proposal affects at least one item, group or path", place="--affects")
    if not 0.0 <= quorum <= 1.0:
        raise InputError("a quorum is a share between 0 and 1", place=str(quorum))
    chosen = options_for(kind, options)
    targets = sorted({t for ref in affects for t in _targets(store, ref)})
    attrs = {
        "kind": kind,
        "options": chosen,
        "closes": closes,
        "quorum": quorum,
        "affects": list(affects),
    }
    key = f"native:decision:{make_id(str(person), str(moment), text.strip()):016x}"
    main = Node.make(
        NodeKind.DECISION, key, name=" ".join(text.split())[:120], time=moment, attrs=attrs
    )
    try:
        node(store, main.id)
    except NotFoundError:
        pass
    else:
        raise InputError("the same proposal was just made", place=str(main.id))
    links = [link(person, main.id, LinkKind.AUTHORED, moment)]
    links += [link(main.id, t, LinkKind.AFFECTS, moment) for t in targets]
    write(store, Record("native", main.id, key, [main], links, [], {main.id: text.strip()}))
    record(store, main.id, affected(store, main.id), "made", moment)
    return main.id


def _proposal(store: Store, proposal: int) -> dict[str, Any]:
    found = node(store, proposal)
    if found["kind"] != "decision" or "closes" not in found["attrs"]:
        raise NotFoundError("no proposal has this id", place=str(proposal))
    return found


def _linked(store: Store, proposal: int, kind: str) -> list[int]:
    with store.connect() as connection:
        return [
            int(i)
            for i in connection.execute(
                select(schema.links.c.dst).where(
                    and_(schema.links.c.src == proposal, schema.links.c.kind == kind)
                )
            ).scalars()
        ]


def affected(
    store: Store, proposal: int, *, threshold: float = AFFECTED_THRESHOLD
) -> list[dict[str, Any]]:
    """The people ``proposal`` affects, strongest first, each with its evidence (people who
    opted out are left out)."""
    from knotwork.store.erase import opted_out

    found_proposal = _proposal(store, proposal)
    view = cached_view(store)
    targets = _linked(store, proposal, "affects")
    found: dict[int, dict[str, Any]] = {}
    kinds: dict[int, str] = {}
    with store.connect() as connection:
        for start in range(0, len(targets), 900):
            kinds.update(
                (int(i), str(k))
                for i, k in connection.execute(
                    select(schema.nodes.c.id, schema.nodes.c.kind).where(
                        schema.nodes.c.id.in_(targets[start : start + 900])
                    )
                ).all()
            )
    groups = [t for t in targets if kinds.get(t) == "group"]
    emergent = [
        ref for ref in found_proposal["attrs"].get("affects", []) if ref.startswith("group:")
    ]
    for person in (t for t in targets if kinds.get(t) == "person"):
        # members of an emergent group named by the proposal (no seed: they are affected)
        where = ", ".join(emergent) or "an emergent group"
        found[person] = {"strength": 1.0, "evidence": [f"member of {where} (emergent)"]}
    with store.connect() as connection:
        for group in groups:
            name = node(store, group)["key"]
            members = connection.execute(
                select(schema.links.c.src).where(
                    and_(schema.links.c.dst == group, schema.links.c.kind == "member_of")
                )
            ).scalars()
            for member in set(members):
                found[int(member)] = {"strength": 1.0, "evidence": [f"member of {name}"]}
    seeds = np.zeros(view.n_nodes)
    for target in targets:
        if kinds.get(target) == "person":
            continue
        try:
            seeds[view.index_of(target)] = 1.0
        except KeyError:
            continue
    if seeds.any():
        mass = walk_from(view, "affected", AFFECTED_WEIGHTS, seeds, warm=("affected", proposal))
        matrix = walk_matrix(view, "affected", AFFECTED_WEIGHTS)
        people = np.flatnonzero(view.people())
        top = float(mass[people].max()) if len(people) else 0.0
        for position in people[mass[people] >= threshold * top].tolist() if top > 0 else []:
            person = int(view.ids[position])
            entry = found.setdefault(person, {"strength": 0.0, "evidence": []})
            entry["strength"] = max(entry["strength"], float(mass[position]) / top)
            near = matrix.indices[matrix.indptr[position] : matrix.indptr[position + 1]]
            near = near[np.lexsort((near, -mass[near]))][:3]
            entry["evidence"] += [f"works on {view.keys[int(i)]}" for i in near.tolist()]
    result = []
    hidden = opted_out(store)
    for person, entry in found.items():
        if person in hidden:
            continue
        try:
            key = view.keys[view.index_of(person)]
        except KeyError:
            key = node(store, person)["key"]
        result.append(
            {
                "person": person,
                "key": key,
                "strength": round(entry["strength"], 4),
                "evidence": entry["evidence"],
            }
        )
    return sorted(result, key=lambda r: (-r["strength"], r["key"]))


def history(store: Store, proposal: int) -> dict[int, list[dict[str, Any]]]:
    """Every response to ``proposal`` per person, oldest first."""
    with store.connect() as connection:
        rows = connection.execute(
            select(schema.links.c.src, schema.links.c.time, schema.links.c.attrs)
            .where(and_(schema.links.c.dst == proposal, schema.links.c.kind == "responds"))
            .order_by(schema.links.c.time, schema.links.c.id)
        ).all()
    result: dict[int, list[dict[str, Any]]] = {}
    for src, when, attrs in rows:
        result.setdefault(int(src), []).append({"time": when, **json.loads(attrs)})
    for answers in result.values():
        answers.sort(key=lambda a: (a["time"], a.get("seq", 0)))
    return result


def respond(
    store: Store,
    proposal: int,
    actor: str,
    choice: str,
    reason: str = "",
    *,
    on_behalf_of: str | None = None,
    change: bool = True,
    now: int | None = None,
) -> None:
    """Record ``actor``'s response (a person only responds as themself).

    A second response replaces the first until the close (``change=False`` refuses it); the
    same response twice is a duplicate and an error.
    """
    person, moment = actor_id(store, actor), now_or(now)
    if on_behalf_of is not None and actor_id(store, on_behalf_of) != person:
        raise AuthorisationError("a person can only respond as themself", place=on_behalf_of)
    found = _proposal(store, proposal)
    attrs = found["attrs"]
    if moment >= attrs["closes"]:
        raise InputError("the proposal is closed", place=str(proposal))
    choice = check(attrs["kind"], attrs["options"], choice)
    previous = history(store, proposal).get(person, [])
    if previous:
        last = previous[-1]
        if last["choice"] == choice and last.get("reason", "") == reason:
            raise InputError(
                "duplicate response: the same answer is already recorded", place=str(proposal)
            )
        if not change:
            raise InputError("already responded; change the response instead", place=str(proposal))
    seq = len(previous) + 1
    answer = link(
        person, proposal, LinkKind.RESPONDS, moment, str(seq), choice=choice, reason=reason, seq=seq
    )
    write(store, Record("native", answer.id, f"native:respond:{proposal}", [], [answer]))


def decision(store: Store, proposal: int, *, now: int | None = None) -> dict[str, Any]:
    """A proposal with its responses, turnout among the affected and (once closed) outcome
    (the reasons of people who opted out are not listed)."""
    from knotwork.store.erase import opted_out

    found = _proposal(store, proposal)
    attrs, moment = found["attrs"], now_or(now)
    answers = history(store, proposal)
    latest = {p: a[-1] for p, a in answers.items()}
    closed = moment >= attrs["closes"]
    kept = snapshot(store, proposal) if closed and stage(store, proposal) == "closed" else None
    if kept is None:
        kept = affected(store, proposal)
        if closed:  # who was affected when it was decided, kept for good
            record(store, proposal, kept, "closed", moment)
    people = {a["person"]: a for a in kept}
    voters = set(latest) & set(people)
    turnout = len(voters) / len(people) if people else 0.0
    counted = outcome(attrs["kind"], attrs["options"], [a["choice"] for a in latest.values()])
    quorum_met = turnout >= attrs.get("quorum", 0.0)
    result = counted["result"] if quorum_met else "no quorum"
    hidden = opted_out(store)
    summary = {
        "id": proposal,
        "text": found["text"],
        "kind": attrs["kind"],
        "author": owner(store, proposal),
        "closes": attrs["closes"],
        "status": "closed" if closed else "open",
        "result": result if closed else "open",
        "standing": counted,
        "affected": len(people),
        "responded": len(latest),
        "turnout": round(turnout, 4),
        "quorum": attrs.get("quorum", 0.0),
        "quorum_met": quorum_met,
        "reasons": [
            {"person": p, "choice": a["choice"], "reason": a.get("reason", "")}
            for p, a in sorted(latest.items())
            if a.get("reason") and p not in hidden  # their vote counts, unnamed
        ],
        "reminders": sorted(set(people) - set(latest)) if not closed else [],
    }
    if closed:
        _record_outcome(store, found, summary)
    return summary


def _record_outcome(store: Store, found: dict[str, Any], summary: dict[str, Any]) -> None:
    """Write the outcome once, as a document citing the proposal (idempotent)."""
    attrs = {k: summary[k] for k in ("result", "turnout", "responded", "affected")}
    item = Node.make(
        NodeKind.DOCUMENT,
        found["key"] + ":outcome",
        name=f"outcome: {summary['result']}",
        time=found["attrs"]["closes"],
        attrs=attrs,
    )
    cites = link(item.id, found["id"], LinkKind.CITES, found["attrs"]["closes"])
    write(store, Record("native", item.id, item.key, [item], [cites]))


def reminders(store: Store, proposal: int, *, now: int | None = None) -> list[int]:
    """The affected people who have not responded (empty once closed)."""
    return list(decision(store, proposal, now=now)["reminders"])


def decisions(
    store: Store, *, only_open: bool = False, now: int | None = None
) -> list[dict[str, Any]]:
    """Every proposal (or the open ones), newest first, with status."""
    moment = now_or(now)
    with store.connect() as connection:
        ids = connection.execute(
            select(schema.nodes.c.id).where(schema.nodes.c.kind == "decision")
        ).scalars()
        found = [node(store, int(i)) for i in ids]
    result = [
        {
            "id": f["id"],
            "name": f["name"],
            "kind": f["attrs"]["kind"],
            "closes": f["attrs"]["closes"],
            "status": "closed" if moment >= f["attrs"]["closes"] else "open",
        }
        for f in found
        if "closes" in f["attrs"]
    ]
    if only_open:
        result = [r for r in result if r["status"] == "open"]
    return sorted(result, key=lambda r: -r["closes"])


__all__ = [
    "AFFECTED_THRESHOLD",
    "affected",
    "decision",
    "decisions",
    "history",
    "propose",
    "reminders",
    "respond",
]
