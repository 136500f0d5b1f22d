"""Records of a small, real-looking project for the groups and team tests: three teams over
eighteen months.

*net* (six people, ``drivers/net/``) and *mem* (six, ``lib/mem/``) work from the start; *docs*
(six, ``doc/guides/``) starts after six months; after a year *net* and *mem* work as one
(each commit written by one and reviewed by the other). One reviewer in six comes from another
active team, so the groups are not trivially separated.
"""

from __future__ import annotations

import numpy as np

from knotwork.graph.sample import commit_record
from knotwork.model import Record

DAY = 86_400
T0 = 1_600_000_000
TEAMS = {
    "net": ("drivers/net/", ["link", "queue", "offload", "ethernet"]),
    "mem": ("lib/mem/", ["allocator", "hugepage", "pool", "numa"]),
    "docs": ("doc/guides/", ["guide", "tutorial", "howto", "release"]),
}
PEOPLE = {team: [f"{team}{i}@example.org" for i in range(6)] for team in TEAMS}


def work_records(seed: int = 0) -> list[Record]:
    rng = np.random.default_rng(seed)
    records = []
    for number in range(540):
        when = T0 + number * DAY
        active = ["net", "mem"] + (["docs"] if number >= 180 else [])
        team = active[number % len(active)]
        folder, words = TEAMS[team]
        author = str(rng.choice(PEOPLE[team]))
        if number >= 360 and team in ("net", "mem"):
            other = "mem" if team == "net" else "net"
            reviewer = str(rng.choice(PEOPLE[other]))
        elif rng.random() < 1 / 6:
            reviewer = str(rng.choice([p for t in active for p in PEOPLE[t]]))
        else:
            reviewer = str(rng.choice([p for p in PEOPLE[team] if p != author]))
        files = [f"{folder}{rng.choice(words)}_{rng.integers(3)}.c"]
        message = f"{team}: fix {rng.choice(words)} {rng.choice(words)} handling"
        record = commit_record(f"{number:040x}", author, when, files, message, reviews=[reviewer])
        records.append(record)
    return records
