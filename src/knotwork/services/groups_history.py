"""How groups change: groups found slice by slice and matched by Jaccard similarity.

See :mod:`knotwork.services.groups` (module docstring, *History*) for the rules.

>>> from knotwork.graph.sample import sample_store
>>> history(sample_store(), every_days=365, k_min=3)
[]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knotwork.graph.live import read_store
from knotwork.graph.view import DAY, GraphView
from knotwork.services.groups import MAX_PARTICIPANTS, FloatArray, find_groups
from knotwork.services.privacy import DEFAULT_K_MIN, check_k_min
from knotwork.store.engine import Store


@dataclass
class Event:
    """A change between two slices: ``kind`` is formed, grew, shrank, merged, split or
    dissolved; ``group`` is the lineage id of the group (kept while it continues), ``sources``
    the lineage ids it came from (merged) or went into (split), ``jaccard`` the best match."""

    time: int
    kind: str
    group: int
    size: int
    previous_size: int
    sources: list[int]
    jaccard: float
    terms: list[str]


def _slices(view: GraphView, every_days: float, start: int | None) -> list[int]:
    trusted = view.time[view.trusted]
    if not len(trusted):
        return []
    first = int(trusted.min()) if start is None else start
    step = int(every_days * DAY)
    return list(range(first + step, int(trusted.max()) + step, step))


def match(previous: list[set[int]], current: list[set[int]], threshold: float) -> FloatArray:
    """Jaccard similarity of every previous group with every current group (0 below
    ``threshold``).

    >>> match([{1, 2, 3}], [{2, 3, 4}, {9}], 0.3).tolist()
    [[0.5, 0.0]]
    """
    table = np.zeros((len(previous), len(current)))
    for i, a in enumerate(previous):
        for j, b in enumerate(current):
            shared = len(a & b)
            if shared:
                value = shared / len(a | b)
                table[i, j] = value if value >= threshold else 0.0
    return table


def history(
    store: Store,
    *,
    every_days: float = 90.0,
    start: int | None = None,
    resolution: float = 1.0,
    seed: int = 0,
    k_min: int = DEFAULT_K_MIN,
    half_life_days: float | None = None,
    threshold: float = 0.3,
    change: float = 0.1,
    max_participants: int = MAX_PARTICIPANTS,
) -> list[Event]:
    """How groups formed, grew, shrank, merged, split and dissolved, slice by slice.

    Slices end every ``every_days`` from the first dated link (or ``start``); each uses a
    half-life of ``half_life_days`` (default: ``every_days``), so that it shows recent work.
    Groups smaller than ``k_min`` are not followed. Two groups of consecutive slices match
    when their Jaccard similarity is at least ``threshold``; a one-to-one match is reported
    when its size changed by more than ``change`` (a share).
    """
    k_min = check_k_min(k_min)
    nodes, links, _ = read_store(store)
    half_life = half_life_days or every_days
    base = GraphView.from_arrays(nodes, links, half_life_days=half_life)
    events: list[Event] = []
    previous: list[set[int]] = []
    lineage: list[int] = []
    next_id = 0
    for moment in _slices(base, every_days, start):
        view = GraphView.from_arrays(nodes, links, as_of=moment, half_life_days=half_life)
        result = find_groups(
            view,
            store=store,
            resolution=resolution,
            seed=seed,
            k_min=k_min,
            admin=True,
            max_participants=max_participants,
        )
        kept = [g for g in result.groups if g.size >= k_min]
        current = [set(g.members or []) for g in kept]
        table = match(previous, current, threshold)
        ids: list[int] = []
        for j, group in enumerate(kept):
            before = np.flatnonzero(table[:, j] > 0)
            if not len(before):
                ids.append(next_id)
                next_id += 1
                events.append(Event(moment, "formed", ids[-1], group.size, 0, [], 0.0, group.terms))
                continue
            main = int(before[np.argmax(table[before, j])])
            heirs = np.flatnonzero(table[main] > 0)
            first_heir = int(heirs[np.argmax(table[main, heirs])])
            ids.append(lineage[main] if first_heir == j else next_id)
            next_id += first_heir != j
            old = len(previous[main])
            best = round(float(table[main, j]), 3)
            if len(before) > 1:
                sources = [lineage[i] for i in before.tolist()]
                events.append(
                    Event(moment, "merged", ids[-1], group.size, old, sources, best, group.terms)
                )
            elif len(heirs) > 1:
                events.append(
                    Event(
                        moment,
                        "split",
                        ids[-1],
                        group.size,
                        old,
                        [lineage[main]],
                        best,
                        group.terms,
                    )
                )
            elif group.size > old * (1 + change):
                events.append(
                    Event(moment, "grew", ids[-1], group.size, old, [], best, group.terms)
                )
            elif group.size < old * (1 - change):
                events.append(
                    Event(moment, "shrank", ids[-1], group.size, old, [], best, group.terms)
                )
        for i in (
            np.flatnonzero(table.sum(axis=1) == 0).tolist()
            if len(current)
            else range(len(previous))
        ):
            events.append(Event(moment, "dissolved", lineage[i], 0, len(previous[i]), [], 0.0, []))
        previous, lineage = current, ids
    return events


__all__ = ["Event", "history", "match"]
