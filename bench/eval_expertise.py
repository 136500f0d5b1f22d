"""Evaluate who-knows against a project's maintainer file.

Usage::

    python bench/eval_expertise.py REPO --db sqlite:///store.db [--as-of YYYY-MM-DD] [--json]

REPO is the git repository the store was ingested from. Its maintainer file (Linux-style
``MAINTAINERS`` with ``F:`` path patterns and ``M:``/``R:`` people, or GitHub ``CODEOWNERS``)
is read at HEAD. For each section with paths and people who can be matched to the graph,
who-knows is asked for the section's paths and the rank of the best-ranked listed person
gives hit@1, hit@5 and the reciprocal rank. The baseline, computed in the same run on the same
view, ranks people by the number of commits they authored that touch the section's paths.
Ties take the middle rank. Listed people are matched by email, then by name, after the
repository's ``.mailmap`` (as ``git check-mailmap`` applies it); the unmatched are counted.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from knotwork.graph.view import LINK_KINDS, GraphView, cached_view
from knotwork.model import LinkKind
from knotwork.services.expertise import (
    DEFAULT_SETTINGS,
    EXPERTISE_HALF_LIFE_DAYS,
    ExpertiseIndex,
    ExpertiseSettings,
)
from knotwork.store import schema
from knotwork.store.engine import Store

FloatArray = npt.NDArray[np.float64]
PERSON = re.compile(
    r"^\s*(?P<name>[^<]*?)\s*(?:<(?P<email>[^>]+)>)?\s*(?:\[@?(?P<handle>[^\]]+)\])?\s*$"
)


@dataclass
class Section:
    """One section of a maintainer file: its title, path patterns and listed people."""

    title: str
    patterns: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)


def parse_maintainers(text: str) -> list[Section]:
    """Sections of a Linux-style MAINTAINERS file that list paths (``F:``) and people.

    >>> parse_maintainers("Intro\\n\\nNet\\nM: Ada <a@x.org>\\nR: Bob <b@x.org>\\nF: net/\\n")
    [Section(title='Net', patterns=['net/'], people=['Ada <a@x.org>', 'Bob <b@x.org>'])]
    """
    sections: list[Section] = []
    current: Section | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        match = re.match(r"^([A-Z]):\s*(.*)$", line)
        if not line.strip():
            current = None
        elif match and current is not None:
            tag, value = match.groups()
            if tag in "MR":
                current.people.append(value.strip())
            elif tag == "F":
                current.patterns.append(value.strip())
        elif not match and not line.startswith((" ", "\t", "-", "=")):
            current = Section(line.strip())
            sections.append(current)
    return [s for s in sections if s.patterns and s.people]


def parse_codeowners(text: str) -> list[Section]:
    """One section per CODEOWNERS rule (pattern and owners).

    >>> parse_codeowners("# c\\n/src/ @ada a@x.org\\n")
    [Section(title='/src/', patterns=['src/'], people=['[@ada]', 'a@x.org'])]
    """
    sections = []
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2:
            people = [f"[{p}]" if p.startswith("@") else p for p in parts[1:]]
            sections.append(Section(parts[0], [parts[0].lstrip("/")], people))
    return sections


def read_sections(repo: Path) -> tuple[str, list[Section]]:
    """The maintainer file of ``repo`` at HEAD, parsed."""
    for path, parse in (
        ("MAINTAINERS", parse_maintainers),
        (".github/CODEOWNERS", parse_codeowners),
        ("CODEOWNERS", parse_codeowners),
        ("docs/CODEOWNERS", parse_codeowners),
    ):
        shown = subprocess.run(
            ["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True, check=False
        )
        if shown.returncode == 0:
            return path, parse(shown.stdout.decode("utf-8", "replace"))
    raise SystemExit(f"{repo}: no MAINTAINERS or CODEOWNERS file at HEAD")


class PersonMatcher:
    """Matches listed people to person nodes: email, then name, then after ``.mailmap``."""

    def __init__(self, store: Store, repo: Path) -> None:
        aliases = schema.aliases
        with store.connect() as connection:
            rows = connection.execute(
                select(aliases.c.kind, func.lower(aliases.c.value), aliases.c.person)
            ).all()
        self.by: dict[tuple[str, str], set[int]] = {}
        for kind, value, person in rows:
            self.by.setdefault((kind, value.strip()), set()).add(person)
        self.repo = repo

    def _lookup(self, name: str, email: str, handle: str) -> set[int]:
        found: set[int] = set()
        for kind, value in (("email", email), ("handle", handle), ("name", name)):
            if value:
                found |= self.by.get((kind, value.lower().strip()), set())
        return found

    def match(self, listed: str) -> set[int]:
        """The person ids of a listed ``Name <email> [@handle]``: every person node known
        by the address, the handle or the name, before and after ``.mailmap`` (one person
        often has several nodes, one per address, in a project without a ``.mailmap``)."""
        parsed = PERSON.match(listed)
        if parsed is None:
            return set()
        name, email, handle = (parsed.group(g) or "" for g in ("name", "email", "handle"))
        found = self._lookup(name, email, handle)
        if email:
            mapped = subprocess.run(
                ["git", "-C", str(self.repo), "check-mailmap", f"{name} <{email}>"],
                capture_output=True,
                check=False,
            ).stdout.decode("utf-8", "replace")
            again = PERSON.match(mapped.strip())
            if again is not None:
                found |= self._lookup(again.group("name") or "", again.group("email") or "", "")
        return found


def rank_of(scores: FloatArray, targets: list[int]) -> float | None:
    """Middle rank (1 = best) of the best-scored of ``targets``; None when all score 0.

    >>> rank_of(np.array([0.5, 0.9, 0.5, 0.0]), [2])
    2.5
    """
    best = max(float(scores[t]) for t in targets)
    if best <= 0:
        return None
    higher = int((scores > best).sum())
    tied = int((scores == best).sum())
    return higher + (tied + 1) / 2


def commit_counts(view: GraphView, files: npt.NDArray[np.int64]) -> FloatArray:
    """Per node: how many commits it authored that change one of ``files``."""
    changed = view.link_kind == LINK_KINDS.index(LinkKind.CHANGED.value)
    touching = np.zeros(view.n_nodes, dtype=bool)
    touching[view.src[changed & np.isin(view.dst, files)]] = True
    authored = view.link_kind == LINK_KINDS.index(LinkKind.AUTHORED.value)
    chosen = authored & touching[view.dst]
    return np.bincount(view.src[chosen], minlength=view.n_nodes).astype(np.float64)


@dataclass
class Scores:
    """Ranks of one method over the sections."""

    ranks: list[float | None] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """hit@1, hit@5 and MRR."""
        n = max(len(self.ranks), 1)
        return {
            "hit@1": sum(1 for r in self.ranks if r is not None and r <= 1) / n,
            "hit@5": sum(1 for r in self.ranks if r is not None and r <= 5) / n,
            "mrr": sum(1 / r for r in self.ranks if r is not None) / n,
        }


def evaluate(
    store: Store,
    repo: Path,
    *,
    as_of: int | None = None,
    settings: ExpertiseSettings = DEFAULT_SETTINGS,
    sections: list[Section] | None = None,
    half_life_days: float = EXPERTISE_HALF_LIFE_DAYS,
) -> dict[str, Any]:
    """Who-knows and the commit-count baseline over the maintainer file's sections."""
    source, parsed = read_sections(repo) if sections is None else ("given", sections)
    view = cached_view(store, as_of=as_of, half_life_days=half_life_days)
    index = ExpertiseIndex.of(view, settings)
    matcher = PersonMatcher(store, repo)
    listed: dict[str, set[int]] = {}
    ours, baseline = Scores(), Scores()
    asked = 0
    people = index.people
    for section in parsed:
        targets = []
        for entry in section.people:
            if entry not in listed:
                listed[entry] = matcher.match(entry)
            for person in listed[entry]:
                try:
                    targets.append(view.index_of(person))
                except KeyError:
                    continue
        targets = [t for t in targets if people[t]]
        query = " ".join(section.patterns)
        seeds, _ = index.seeds(None, query)
        if not targets or seeds.sum() <= 0:
            continue
        asked += 1
        _, score = index.rank(seeds)
        ours.ranks.append(rank_of(score, targets))
        files = np.unique(np.concatenate([index.match_path(p) for p in section.patterns]))
        counts = commit_counts(view, files)
        counts[~people] = 0
        baseline.ranks.append(rank_of(counts, targets))
    unmatched = sorted(e for e, p in listed.items() if not p)
    return {
        "file": source,
        "sections": len(parsed),
        "evaluated": asked,
        "listed_people": len(listed),
        "unmatched_people": len(unmatched),
        "unmatched": unmatched,
        "who_knows": ours.summary(),
        "baseline": baseline.summary(),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry: print the table (or JSON) for one repository and store."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--db", required=True, help="store URL the repository was ingested into")
    parser.add_argument("--as-of", help="ask the graph as it stood then (YYYY-MM-DD)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    moment = None
    if args.as_of:
        moment = int(time.mktime(time.strptime(args.as_of, "%Y-%m-%d")))
    store = Store.open(args.db, upgrade=False)
    started = time.perf_counter()
    result = evaluate(store, args.repo, as_of=moment)
    result["seconds"] = round(time.perf_counter() - started, 2)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{args.repo}: {result['file']}, {result['sections']} sections, "
        f"{result['evaluated']} evaluated, {result['unmatched_people']} of "
        f"{result['listed_people']} listed people unmatched, {result['seconds']} s"
    )
    print(f"{'method':<12} {'hit@1':>6} {'hit@5':>6} {'MRR':>6}")
    for name in ("who_knows", "baseline"):
        row = result[name]
        print(f"{name:<12} {row['hit@1']:>6.3f} {row['hit@5']:>6.3f} {row['mrr']:>6.3f}")
    gain = result["who_knows"]["mrr"] - result["baseline"]["mrr"]
    print(f"MRR gain over baseline: {gain:+.3f} ({'PASS' if gain >= 0.10 else 'FAIL'} at +0.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
