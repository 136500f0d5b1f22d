"""Truck factor (Avelino et al. 2016): how many people would have to leave before most
files of an area have nobody left who knows them.

Degree of authorship (Fritz et al. 2014) of person ``d`` on file ``f``:
``DOA = 3.293 + 1.098 FA + 0.164 DL - 0.321 ln(1 + AC)``, where ``FA`` is 1 when ``d`` created
the file (authored its first commit), ``DL`` the number of commits of ``d`` changing it and
``AC`` the number of commits of others. The authors of ``f`` are those with normalized DOA
(``DOA / max DOA on f``) above 0.75 and ``DOA >= 3.293``. The truck factor removes the author
of the most files, greedily, until more than half the files have no author left.

>>> table = [("ada", "a.c", 0), ("ada", "b.c", 1), ("bob", "c.c", 2), ("bob", "a.c", 3)]
>>> truck_factor(authors_of(table))
1
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np

from knotwork.graph.view import LINK_KINDS, GraphView
from knotwork.model import LinkKind
from knotwork.services.health_base import Metric

REFERENCE = (
    "Avelino, Passos, Hora and Valente (2016), A novel approach for estimating truck factors; "
    "Fritz et al. (2014), degree of authorship"
)


def doa(first: bool, own: int, others: int) -> float:
    """Degree of authorship (see the module docstring).

    >>> round(doa(True, 1, 0), 3)
    4.555
    """
    return 3.293 + 1.098 * float(first) + 0.164 * own - 0.321 * math.log(1 + others)


def authors_of(
    changes: Iterable[tuple[Hashable, str, int]],
) -> dict[str, set[Hashable]]:
    """The authors of each file from ``(person, file, time)`` change events (one per commit)."""
    own: dict[str, Counter[Hashable]] = defaultdict(Counter)
    first: dict[str, tuple[int, set[Hashable]]] = {}
    for person, path, when in changes:
        own[path][person] += 1
        earliest = first.get(path)
        if earliest is None or when < earliest[0]:
            first[path] = (when, {person})
        elif when == earliest[0]:
            earliest[1].add(person)
    result: dict[str, set[Hashable]] = {}
    for path, counts in own.items():
        total = sum(counts.values())
        creators = first[path][1]
        scores = {p: doa(p in creators, c, total - c) for p, c in counts.items()}
        best = max(scores.values())
        result[path] = {p for p, s in scores.items() if s >= 3.293 and s / best > 0.75}
    return result


def truck_factor(authors: Mapping[str, set[Hashable]]) -> int:
    """People to remove (top authors first) until more than half the files are orphaned.

    Removing an author never changes how many files the others author, so the greedy order
    (most files first, ties by name) is fixed from the start: one sort, then each file is
    orphaned when its last author goes (linear in the authorship table, not quadratic).

    >>> truck_factor({"a.c": {"ada"}, "b.c": {"ada", "bob"}, "c.c": {"bob"}})
    2
    """
    total = len(authors)
    if total == 0:
        return 0
    left = {f: len(a) for f, a in authors.items()}
    orphaned = sum(1 for n in left.values() if n == 0)
    files_of: dict[Hashable, list[str]] = defaultdict(list)
    for path, names in authors.items():
        for person in names:
            files_of[person].append(path)
    order = sorted(files_of, key=lambda p: (-len(files_of[p]), str(p)))
    removed = 0
    for person in order:
        if orphaned > total / 2:
            return removed
        for path in files_of[person]:
            left[path] -= 1
            if left[path] == 0:
                orphaned += 1
        removed += 1
    return removed


def area(path: str) -> str:
    """The area of a file: its top-level directory (``.`` for files at the top).

    >>> area("drivers/net/ice.c"), area("README")
    ('drivers', '.')
    """
    return path.split("/", 1)[0] if "/" in path else "."


def changes_from_view(view: GraphView) -> list[tuple[int, str, int]]:
    """``(person id, file key, time)`` for each (author, commit, file) in ``view``."""
    authored = LINK_KINDS.index(LinkKind.AUTHORED.value)
    changed = LINK_KINDS.index(LinkKind.CHANGED.value)
    people = view.people()
    a = (view.link_kind == authored) & people[view.src]
    c = view.link_kind == changed
    commit_author = dict(zip(view.dst[a].tolist(), view.src[a].tolist(), strict=True))
    result: list[tuple[int, str, int]] = []
    for commit, path, when in zip(
        view.src[c].tolist(), view.dst[c].tolist(), view.time[c].tolist(), strict=True
    ):
        person = commit_author.get(commit)
        if person is not None:
            result.append((int(view.ids[person]), view.keys[path], int(when)))
    return result


def authors_from_view(view: GraphView) -> dict[str, set[Hashable]]:
    """The authors (person ids) of each file key in ``view``: the same as
    ``authors_of(changes_from_view(view))``, computed with array operations and memoised.

    >>> from knotwork.graph.sample import sample_store
    >>> view = GraphView.build(sample_store())
    >>> authors_from_view(view) == authors_of(changes_from_view(view))
    True
    """

    def make() -> dict[str, set[Hashable]]:
        authored = LINK_KINDS.index(LinkKind.AUTHORED.value)
        changed = LINK_KINDS.index(LinkKind.CHANGED.value)
        a = (view.link_kind == authored) & view.people()[view.src]
        c = view.link_kind == changed
        n = view.n_nodes
        commit_author = np.full(n, -1, dtype=np.int64)
        commit_author[view.dst[a]] = view.src[a]  # the last authored link wins, as in a dict
        person = commit_author[view.src[c]]
        ok = person >= 0
        person, path, when = person[ok], view.dst[c][ok].astype(np.int64), view.time[c][ok]
        if not len(person):
            return {}
        pairs, inverse, own = np.unique(path * n + person, return_inverse=True, return_counts=True)
        pair_path, pair_person = pairs // n, pairs % n
        earliest = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(earliest, path, when.astype(np.int64))
        first = np.zeros(len(pairs), dtype=bool)
        first[inverse[when == earliest[path]]] = True
        total = np.bincount(pair_path, weights=own, minlength=n).astype(np.int64)
        others = total[pair_path] - own
        values, back = np.unique(1 + others, return_inverse=True)
        logs = np.array([math.log(int(v)) for v in values.tolist()], dtype=np.float64)[back]
        score = 3.293 + 1.098 * first.astype(np.float64) + 0.164 * own - 0.321 * logs
        best = np.full(n, -np.inf)
        np.maximum.at(best, pair_path, score)
        author = (score >= 3.293) & (score / best[pair_path] > 0.75)
        ids = view.ids[pair_person].tolist()
        result: dict[str, set[Hashable]] = {}
        for node, pid, is_author in zip(pair_path.tolist(), ids, author.tolist(), strict=True):
            names = result.setdefault(view.keys[node], set())
            if is_author:
                names.add(int(pid))
        return result

    found: dict[str, set[Hashable]] = view.memo(("health-authors",), make)
    return found


def truck_metric(view: GraphView, k_min: int) -> Metric:
    """The truck factor of the whole project and of each area (top-level directory)."""
    authors = authors_from_view(view)
    by_area: dict[str, dict[str, set[Hashable]]] = defaultdict(dict)
    for path, names in authors.items():
        by_area[area(path)][path] = names
    areas: list[dict[str, Any]] = []
    for name, files in sorted(by_area.items()):
        people = set().union(*files.values())
        areas.append(
            {
                "area": name,
                "files": len(files),
                "authors": len(people),
                "truck_factor": truck_factor(files),
            }
        )
    areas.sort(key=lambda a: (-int(a["files"]), str(a["area"])))
    everyone = set().union(*authors.values()) if authors else set()
    return Metric(
        name="truck_factor",
        value=truck_factor(authors) if authors else None,
        explanation=(
            "How many people would have to leave before more than half of the files have "
            "nobody left who knows them well; 1 or 2 means knowledge hangs on very few people."
        ),
        reference=REFERENCE,
        details={"files": len(authors), "authors": len(everyone), "areas": areas},
        note="" if authors else "no authored file changes in the store",
    )


def author_areas(view: GraphView, person_id: int) -> list[str]:
    """The areas where ``person_id`` is an author of at least one file."""
    authors = authors_from_view(view)
    return sorted({area(p) for p, names in authors.items() if person_id in names})


__all__ = [
    "area",
    "author_areas",
    "authors_from_view",
    "authors_of",
    "doa",
    "truck_factor",
    "truck_metric",
]
