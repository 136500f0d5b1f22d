"""No aggregate over fewer than ``k_min`` people leaves the API, not even by differencing.

Generated organisations (people in declared units, documents written and reviewed over a
month) are asked, as an analyst, a generated sequence of questions: groups and health at
generated ``as_of`` filters, participation per unit, with people opting out in between (which
shrinks every population by one). Every figure the API releases must describe ``k_min`` or
more people, and no two released figures of one kind may describe sets that differ by
1..k_min-1 people (the sets are read from the answers: group members, the units' members,
the people health counts). The questions go in turn to two apps over one database, as to two
workers of one server, each with its own store connection; the ledger lives in the database.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from knotwork.api import create_app
from knotwork.config import Settings
from knotwork.ingest.base import Batch
from knotwork.model import Link, LinkKind, Node, NodeKind, Record, make_id
from knotwork.services.health import health
from knotwork.services.participation import participation
from knotwork.store.accounts import add_user
from knotwork.store.engine import Store
from knotwork.store.erase import opt_out
from knotwork.store.writer import SourceInfo, write_batch

KEY = b"privacy-property-key"
K_MIN = 3
T0 = 1_700_000_000
DAY = 86_400
TOPICS = ("pump valve", "invoice ledger", "kernel driver", "brochure print")


@dataclass(frozen=True)
class Organisation:
    """``unit[i]``: person i's unit; ``documents``: (author, reviewers, day) per document."""

    unit: tuple[int, ...]
    documents: tuple[tuple[int, tuple[int, ...], int], ...]

    @property
    def n(self) -> int:
        return len(self.unit)


@st.composite
def organisations(draw: st.DrawFn) -> Organisation:
    n = draw(st.integers(5, 12))
    units = draw(st.integers(1, 3))
    unit = tuple(draw(st.lists(st.integers(0, units - 1), min_size=n, max_size=n)))
    person = st.integers(0, n - 1)
    document = st.tuples(person, st.lists(person, max_size=2).map(tuple), st.integers(0, 29))
    documents = draw(st.lists(document, min_size=n, max_size=3 * n))
    return Organisation(unit, tuple(documents))


#: A question: (route, as_of day or None), or an opt-out of person (index mod n).
STEPS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["groups", "health"]), st.sampled_from([None, 3, 10, 20, 29])),
        st.tuples(st.just("participation"), st.none()),
        st.tuples(st.just("opt_out"), st.integers(0, 11)),
    ),
    min_size=2,
    max_size=8,
)


def _people(org: Organisation) -> list[Node]:
    return [Node.person(f"p{i}@org.example", f"Person {i}") for i in range(org.n)]


def _write(store: Store, org: Organisation) -> None:
    people = _people(org)
    units = {u: Node.make(NodeKind.GROUP, f"unit {u}", name=f"unit {u}") for u in set(org.unit)}
    records = []
    for i, person in enumerate(people):
        unit = units[org.unit[i]]
        member = Link(make_id("m", str(i)), person.id, unit.id, LinkKind.MEMBER_OF, T0)
        records.append(Record("test", person.id, f"p{i}", [person, unit], [member]))
    for j, (author, reviewers, day) in enumerate(org.documents):
        when = T0 + day * DAY
        doc = Node.make(NodeKind.DOCUMENT, f"doc{j}", name=TOPICS[author % 4], time=when)
        links = [Link(make_id("a", str(j)), people[author].id, doc.id, LinkKind.AUTHORED, when)]
        links += [
            Link(make_id("r", str(j), str(r)), people[r].id, doc.id, LinkKind.REVIEWS, when)
            for r in sorted(set(reviewers) - {author})
        ]
        records.append(Record("test", doc.id, f"doc{j}", [doc], links, [], {doc.id: doc.name}))
    write_batch(store, SourceInfo("test", "test:org", "org"), Batch(records, [], {}))


class Audit:
    """The sets of people each released figure describes, per kind of figure."""

    def __init__(self) -> None:
        self.released: dict[str, list[frozenset[int]]] = {}

    def add(self, kind: str, people: frozenset[int]) -> None:
        assert len(people) >= K_MIN, (kind, sorted(people))
        for earlier in self.released.get(kind, []):
            for difference in (people - earlier, earlier - people):
                assert not 0 < len(difference) < K_MIN, (kind, sorted(earlier), sorted(people))
        self.released.setdefault(kind, []).append(people)


def _ask(client: TestClient, token: str, route: str, as_of: int | None) -> dict[str, Any]:
    params = {} if as_of is None else {"as_of": T0 + as_of * DAY}
    response = client.get(
        f"/api/v1/{route}", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _run(
    org: Organisation, steps: list[tuple[str, int | None]], *, workers: int = 2, restart: int = -1
) -> Audit:
    """Ask ``steps``: question ``j`` goes to worker ``j % workers``, each an app over its own
    store connection to one database; before question ``restart`` every worker restarts."""
    folder = tempfile.TemporaryDirectory()
    url = f"sqlite:///{folder.name}/org.db"
    stores: list[Store] = []
    try:
        store = Store.open(url)
        stores.append(store)
        _write(store, org)
        token = add_user(store, "analyst@org.example", "analyst", key=KEY)

        def start() -> list[TestClient]:
            clients = []
            for _ in range(workers):
                stores.append(Store.open(url))
                app = create_app(Settings(database_url=url, k_min=K_MIN), key=KEY, store=stores[-1])
                clients.append(TestClient(app, raise_server_exceptions=True))
            return clients

        clients = start()
        ids = [p.id for p in _people(org)]
        out: set[int] = set()
        audit = Audit()
        asked = 0
        for route, arg in steps:
            if route == "opt_out":
                person = ids[int(arg or 0) % org.n]
                opt_out(store, f"p{ids.index(person)}@org.example")
                out.add(person)
                continue
            if asked == restart:
                clients = start()
            answer = _ask(clients[asked % workers], token, route, arg)
            asked += 1
            present = frozenset(ids) - out
            if route == "health":
                if answer["people"] is not None:
                    # health counts every person still in: its figures describe them all
                    assert answer["people"] == len(present) and answer["metrics"]
                    audit.add("health", present)
                elif len(present) >= K_MIN and not audit.released.get("health"):
                    raise AssertionError(f"nothing withheld it, yet: {answer['note']}")
            elif route == "groups":
                for group in answer["groups"]:
                    if not group["suppressed"]:
                        members = frozenset(group["members"])
                        assert members <= present and len(members) == group["size"]
                        audit.add("groups", members)
                if answer["people"] is not None:
                    audit.add("groups: people", present)
            else:
                for group in answer["groups"]:
                    unit = int(group["key"].removeprefix("unit "))
                    members = frozenset(i for j, i in enumerate(ids) if org.unit[j] == unit)
                    assert group["people"] == len(members - out)
                    if group["value"] is not None:
                        audit.add(f"participation: {unit}", members - out)
                        audit.add("participation", members - out)
        return audit
    finally:
        for opened in stores:
            opened.close()
        folder.cleanup()


@settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: bounded time
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(organisations(), STEPS)
def test_no_released_aggregate_describes_fewer_than_k_min_or_a_small_difference(
    org: Organisation, steps: list[tuple[str, int | None]]
) -> None:
    _run(org, steps)


# -- the attack the property rules out, spelled out ------------------------------------------

#: Four people in unit 0 (k_min = 3: their unit is shown), two in unit 1 (never shown).
SMALL = Organisation(
    (0, 0, 0, 0, 1, 1),
    (*((i, ((i + 1) % 6,), i) for i in range(6)), (0, (1, 2, 3), 5)),
)


def test_opting_out_between_two_answers_does_not_reveal_the_person() -> None:
    # without the ledger, the library releases both figures: unit 0 over 4, then over 3
    store = Store.open("sqlite://")
    _write(store, SMALL)
    first = participation(store, k_min=K_MIN)["groups"][0]
    whole = health(store, k_min=K_MIN).people
    opt_out(store, "p3@org.example")
    second = participation(store, k_min=K_MIN)["groups"][0]
    assert (first["people"], second["people"]) == (4, 3) and second["value"] is not None
    assert health(store, k_min=K_MIN).people == whole - 1
    store.close()
    # through the API, the second figure of each is withheld: by the same worker, by another
    # worker, and after a restart
    steps: list[tuple[str, int | None]] = [
        ("participation", None),
        ("health", None),
        ("opt_out", 3),
        ("participation", None),
        ("health", None),
    ]
    crossed = [*steps[:3], steps[4], steps[3]]  # each second question goes to the other worker
    for asked, workers, restart in ((steps, 1, -1), (crossed, 2, -1), (steps, 1, 2)):
        audit = _run(SMALL, asked, workers=workers, restart=restart)
        assert audit.released["participation"] == [frozenset(audit.released["participation"][0])]
        assert len(audit.released["health"]) == 1


def test_each_answer_alone_is_released_to_an_analyst() -> None:
    audit = _run(SMALL, [("health", None), ("participation", None), ("groups", 29)])
    assert audit.released["health"] and audit.released["participation"]
    assert all(len(s) >= K_MIN for s in itertools.chain(*audit.released.values()))
