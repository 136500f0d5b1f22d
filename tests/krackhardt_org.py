"""A small organisation for native-platform tests: Krackhardt's 21 managers (departments from
``Krackhardt_HighTech__Attributes.csv``, advice ties from ``..._Advice.csv``) with documents
written in each department and reviewed from outside, stored as records."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from knotwork.ingest.base import Batch
from knotwork.model import Alias, AliasKind, Link, LinkKind, Node, NodeKind, Record, make_id
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

DATA = Path("/work/shared/data/krackhardt")
T0 = 1_767_225_600  # 2026-01-01
DAY = 86_400
TOPICS = {
    0: "strategy budget board",
    1: "sales pricing customers contracts",
    2: "manufacturing assembly line quality inspection",
    3: "finance invoices audit",
    4: "engineering design prototypes testing",
}


@dataclass
class Org:
    """The people by name (A01...), departments by number, documents per department, and the
    outsiders who review department 2's documents."""

    people: dict[str, Node]
    department: dict[str, int]
    groups: dict[int, Node]
    documents: dict[int, list[Node]]
    outsiders: list[str]

    def members(self, d: int) -> list[str]:
        return sorted(p for p, g in self.department.items() if g == d)


def _link(src: Node, dst: Node, kind: LinkKind, when: int) -> Link:
    return Link(make_id("test", str(src.id), str(dst.id), kind.value), src.id, dst.id, kind, when)


def build(store: Store) -> Org:
    """Write the organisation into ``store``."""
    rows = list(csv.DictReader((DATA / "Krackhardt_HighTech__Attributes.csv").open()))
    advice = [
        [int(v) for v in line.split(",")]
        for line in (DATA / "Krackhardt_HighTech__Advice.csv").read_text().split()
    ]
    names = [r["NodeName"] for r in rows]
    department = {r["NodeName"]: int(r["Department"]) for r in rows}
    people = {n: Node.person(f"{n.lower()}@hightech.example", name=n) for n in names}
    groups = {
        d: Node.make(NodeKind.GROUP, f"department {d}", name=f"department {d}")
        for d in sorted(set(department.values()))
    }
    records: list[Record] = []
    for n, person in people.items():
        group = groups[department[n]]
        records.append(
            Record(
                "test",
                person.id,
                n,
                [person, group],
                [_link(person, group, LinkKind.MEMBER_OF, T0)],
                [Alias(AliasKind.HANDLE, n, person.id)],
            )
        )
    documents: dict[int, list[Node]] = {}
    for d in groups:
        members = sorted(p for p in names if department[p] == d)
        for k, author in enumerate(members):
            doc = Node.make(
                NodeKind.DOCUMENT, f"dept{d}/doc{k}", name=f"{TOPICS[d]} {k}", time=T0 + k * DAY
            )
            documents.setdefault(d, []).append(doc)
            co = members[(k + 1) % len(members)]
            links = [_link(people[author], doc, LinkKind.AUTHORED, T0 + k * DAY)]
            if co != author:
                links.append(_link(people[co], doc, LinkKind.REVIEWS, T0 + k * DAY))
            records.append(
                Record(
                    "test", doc.id, doc.key, [doc], links, [], {doc.id: f"{TOPICS[d]} report {k}"}
                )
            )
    # the two non-members of department 2 who seek advice from most of its members
    inside = [names.index(p) for p in names if department[p] == 2]
    ties = {p: sum(advice[names.index(p)][j] for j in inside) for p in names if department[p] != 2}
    outsiders = sorted(ties, key=lambda p: (-ties[p], p))[:2]
    for i, outsider in enumerate(outsiders):
        for doc in documents[2][i::2]:
            records.append(
                Record(
                    "test",
                    make_id("review", outsider, doc.key),
                    outsider,
                    [],
                    [_link(people[outsider], doc, LinkKind.REVIEWS, T0 + 20 * DAY)],
                )
            )
    write_batch(store, SourceInfo("test", "test:krackhardt", "krackhardt"), Batch(records, [], {}))
    return Org(people, department, groups, documents, outsiders)
