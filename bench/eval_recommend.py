"""Evaluate "with whom should I communicate?" on a project's history.

Usage::

    python bench/eval_recommend.py --db sqlite:////tmp/dpdk-native.db [--months 6] [--people 200]

The last ``--months`` of the history are hidden: the view is taken as of their start. A **tie**
is two people taking part in the same item (authoring, reviewing, acking, testing, reporting,
suggesting, handling a commit; replies), as :func:`knotwork.services.questions.ties` defines
it. A **new collaboration** is a tie formed in the hidden months between two people who were
both active before and not yet tied. For each person with a new collaboration (a sample of
``--people``, the most active first), :func:`~knotwork.services.questions.who_to_talk_to`
recommends 10 people from the view of the past; the baseline, in the same run, recommends the
10 most active people (by items) in the person's areas (directories, two levels deep, of the
files they changed), leaving out the person and their ties. Printed: precision@10 and
recall@10 (means over the people), with the machine load. The history ends at the newest
ingested (not native) link.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

import numpy as np
from sqlalchemy import text

from knotwork.graph.view import DAY, LINK_KINDS, cached_view
from knotwork.services.questions import _participation, ties, who_to_talk_to
from knotwork.store.engine import Store


def area(path: str) -> str:
    """The directory two levels deep of a file path.

    >>> area("drivers/net/ice/ice.c"), area("README")
    ('drivers/net', '')
    """
    parts = path.split("/")[:-1]
    return "/".join(parts[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--months", type=float, default=6.0)
    parser.add_argument("--people", type=int, default=200)
    args = parser.parse_args()
    store = Store.open(args.db)
    started = time.perf_counter()
    with store.connect() as connection:  # the end of the ingested history (native writes after)
        end = int(
            connection.execute(
                text("SELECT max(time) FROM links WHERE source <> 'native' AND time < :now"),
                {"now": int(time.time())},
            ).scalar_one()
        )
    full = cached_view(store, as_of=end)
    cut = int(end - args.months * 30.44 * DAY)
    past = cached_view(store, as_of=cut)
    src, dst, when = _participation(full)
    # pairs per item, split into before and after the cut (positions of the full view)
    after_items = np.unique(dst[when >= cut])
    new_pairs: dict[int, set[int]] = {}
    before_people = set(np.unique(src[when < cut]).tolist())
    order = np.argsort(dst, kind="stable")
    s_sorted, d_sorted = src[order], dst[order]
    bounds = np.searchsorted(d_sorted, after_items)
    ends = np.searchsorted(d_sorted, after_items, side="right")
    people_mask = full.people()
    for lo, hi in zip(bounds.tolist(), ends.tolist(), strict=True):
        members = {int(p) for p in s_sorted[lo:hi].tolist() if people_mask[p]}
        for one in members:
            for other in members - {one}:
                new_pairs.setdefault(one, set()).add(other)
    # changed files per commit for areas; activity per person before the cut
    changed = full.link_kind == LINK_KINDS.index("changed")
    item_areas: dict[int, set[str]] = {}
    for item, file in zip(full.src[changed].tolist(), full.dst[changed].tolist(), strict=True):
        item_areas.setdefault(item, set()).add(area(full.keys[file]))
    person_areas: dict[int, Counter[str]] = {}
    area_people: dict[str, Counter[int]] = {}
    early = when < cut
    for p, item in zip(src[early].tolist(), dst[early].tolist(), strict=True):
        if not people_mask[p]:
            continue
        for a in item_areas.get(item, ()):
            person_areas.setdefault(p, Counter())[a] += 1
            area_people.setdefault(a, Counter())[p] += 1
    candidates = []
    for p, partners in new_pairs.items():
        if p not in before_people:
            continue
        known = ties_before(full, p, cut)
        fresh = {q for q in partners if q in before_people and q not in known}
        if fresh:
            candidates.append((p, fresh, known))
    candidates.sort(key=lambda c: -sum(person_areas.get(c[0], Counter()).values()))
    chosen = candidates[: args.people]
    ours_p, ours_r, base_p, base_r = [], [], [], []
    for p, fresh, known in chosen:
        person = int(full.ids[p])
        try:
            past_position = past.index_of(person)
        except KeyError:
            continue
        del past_position
        recommended = {r["person"] for r in who_to_talk_to(past, person, limit=10)}
        truth = {int(full.ids[q]) for q in fresh}
        hits = len(recommended & truth)
        ours_p.append(hits / 10)
        ours_r.append(hits / len(truth))
        scores: Counter[int] = Counter()
        for name, _ in person_areas.get(p, Counter()).most_common(5):
            for q, count in area_people[name].items():
                if q != p and q not in known:
                    scores[q] += count
        baseline = {int(full.ids[q]) for q, _ in scores.most_common(10)}
        hits = len(baseline & truth)
        base_p.append(hits / 10)
        base_r.append(hits / len(truth))
    seconds = time.perf_counter() - started
    print(
        f"people evaluated: {len(ours_p)} (of {len(candidates)} with new collaborations); "
        f"cut {time.strftime('%Y-%m-%d', time.gmtime(cut))}; {seconds:.0f} s; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"who_to_talk_to      precision@10 {np.mean(ours_p):.3f}  recall@10 {np.mean(ours_r):.3f}"
    )
    print(
        f"baseline (activity) precision@10 {np.mean(base_p):.3f}  recall@10 {np.mean(base_r):.3f}"
    )


def ties_before(view: object, position: int, cut: int) -> set[int]:
    """Positions (in the full view) of the people tied to ``position`` before ``cut``."""
    from knotwork.graph.view import GraphView

    assert isinstance(view, GraphView)
    src, dst, when = _participation(view)
    early = when < cut
    items = np.unique(dst[early & (src == position)])
    return set(np.unique(src[early & np.isin(dst, items)]).tolist()) - {position}


__all__ = ["area", "main", "ties", "ties_before"]


if __name__ == "__main__":
    main()
