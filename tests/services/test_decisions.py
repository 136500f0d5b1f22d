"""Decisions on a small organisation (Krackhardt's managers plus native activity)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from knotwork.errors import InputError, KnotworkError, NotFoundError
from knotwork.services.decisions import affected, decision, decisions, history, propose, respond
from knotwork.services.decisions_rules import outcome
from knotwork.services.native import AuthorisationError
from knotwork.services.participation import participation
from knotwork.store import schema
from knotwork.store.engine import Store
from krackhardt_org import DAY, T0, Org, build

NOW = T0 + 30 * DAY
CLOSES = T0 + 40 * DAY


@pytest.fixture
def org_store() -> tuple[Store, Org]:
    store = Store.open("sqlite://")
    return store, build(store)


def _rows(store: Store) -> tuple[int, int]:
    with store.connect() as c:
        return (
            c.execute(select(func.count()).select_from(schema.nodes)).scalar_one(),
            c.execute(select(func.count()).select_from(schema.links)).scalar_one(),
        )


def _proposal(
    store: Store, org: Org, affects: list[str] | None = None, text: str = "Two shifts", **kw: object
) -> int:
    targets = affects if affects is not None else [d.key for d in org.documents[2]]
    return propose(store, "A01", text, affects=targets, closes=CLOSES, now=NOW, **kw)  # type: ignore[arg-type]


def test_a_proposal_reaches_the_department_and_its_outside_reviewers(
    org_store: tuple[Store, Org],
) -> None:
    store, org = org_store
    proposal = _proposal(store, org)
    found = {a["key"].split("@")[0].upper() for a in affected(store, proposal)}
    # hand-made expectation: department 2's eight members and the two outsiders who reviewed
    # its documents; nobody else (the other eleven managers are unrelated to its documents)
    expected = set(org.members(2)) | set(org.outsiders)
    precision = len(found & expected) / len(found)
    recall = len(found & expected) / len(expected)
    assert (precision, recall) == (1.0, 1.0), (found - expected, expected - found)
    evidence = {a["key"]: a["evidence"] for a in affected(store, proposal)}
    assert any("dept2/" in e for e in evidence[f"{org.outsiders[0].lower()}@hightech.example"])


def test_affecting_a_group_reaches_its_members_with_the_evidence(
    org_store: tuple[Store, Org],
) -> None:
    store, org = org_store
    proposal = _proposal(store, org, ["group:department 3"])
    found = {a["key"].split("@")[0].upper(): a for a in affected(store, proposal)}
    assert set(org.members(3)) <= set(found)
    assert "member of department 3" in found[org.members(3)[0]]["evidence"]
    assert not set(org.members(2)) & set(found)


def test_responses_change_until_close_and_the_latest_counts(store: Store) -> None:
    org = build(store)
    proposal = _proposal(store, org, quorum=0.5)
    respond(store, proposal, "A03", "disagree", "too fast", now=NOW + 1)
    respond(store, proposal, "A03", "agree", "fine after the talk", now=NOW + 2)
    respond(store, proposal, "A05", "agree", now=NOW + 3)
    assert [a["choice"] for a in history(store, proposal)[org.people["A03"].id]] == [
        "disagree",
        "agree",
    ]
    open_now = decision(store, proposal, now=NOW + 4)
    assert open_now["status"] == "open" and open_now["standing"]["counts"]["agree"] == 2
    assert len(open_now["reminders"]) == open_now["affected"] - 2
    assert org.people["A03"].id not in open_now["reminders"]
    closed = decision(store, proposal, now=CLOSES)
    assert closed["result"] == "no quorum" and closed["turnout"] == pytest.approx(0.2)
    assert decisions(store, only_open=True, now=CLOSES) == []
    # the outcome is an item in the graph, written once
    with store.connect() as c:
        outcome_rows = (
            c.execute(select(schema.nodes.c.name).where(schema.nodes.c.key.like("%:outcome")))
            .scalars()
            .all()
        )
    decision(store, proposal, now=CLOSES + 1)
    assert outcome_rows == ["outcome: no quorum"]


def test_bad_input_gives_clear_errors_and_writes_nothing(store: Store) -> None:
    org = build(store)
    proposal = _proposal(store, org)
    respond(store, proposal, "A03", "agree", now=NOW + 1)
    before = _rows(store)
    bad = [
        lambda: propose(store, "Nobody", "x", affects=["dept2/doc0"], closes=CLOSES, now=NOW),
        lambda: propose(store, "A01", "x", affects=["dept2/doc0"], closes=NOW - 1, now=NOW),
        lambda: propose(store, "A01", "x", affects=["no/such/item"], closes=CLOSES, now=NOW),
        lambda: respond(store, proposal, "A05", "agree", now=CLOSES + 1),
        lambda: respond(store, proposal, "A03", "agree", now=NOW + 2),
        lambda: respond(store, proposal, "A05", "maybe", now=NOW + 2),
        lambda: respond(store, proposal, "A05", "agree", on_behalf_of="A09", now=NOW + 2),
        lambda: respond(store, proposal, "Nobody", "agree", now=NOW + 2),
        lambda: _proposal(store, org),
    ]
    kinds = []
    for call in bad:
        with pytest.raises(KnotworkError) as caught:
            call()  # type: ignore[no-untyped-call]
        kinds.append(type(caught.value))
    assert kinds[0] is NotFoundError and kinds[1] is InputError
    assert kinds[6] is AuthorisationError
    assert _rows(store) == before


def test_participation_indexes_add_up(org_store: tuple[Store, Org]) -> None:
    store, org = org_store
    first = _proposal(store, org)
    second = _proposal(store, org, ["group:department 2"], "Night shift", kind="vote")
    for name in org.members(2)[:5]:
        respond(store, first, name, "agree", now=NOW + 1)
    for name in org.members(2)[:3]:
        respond(store, second, name, "yes", now=NOW + 1)
    result = participation(store, k_min=5)
    people = {p["key"].split("@")[0].upper(): p for p in result["people"]}
    assert people[org.members(2)[0]]["index"] == 1.0
    assert people[org.members(2)[-1]]["index"] == 0.0
    assert sum(p["responded"] for p in people.values()) == 8
    total_affected = sum(len(affected(store, p)) for p in (first, second))
    assert sum(p["affected"] for p in people.values()) == total_affected
    groups = {g["key"]: g for g in result["groups"]}
    assert groups["department 2"]["value"]["responded"] == 8
    department2 = groups["department 2"]["value"]
    members = [people[m] for m in org.members(2)]
    assert department2["affected"] == sum(m["affected"] for m in members)
    assert groups["department 0"]["value"] is None  # one person: suppressed


def test_participation_reads_the_kept_snapshots_and_matches_recomputing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knotwork.services import decisions as service
    from knotwork.services.decisions_affected import stage

    org = build(store)
    first = _proposal(store, org)
    second = _proposal(store, org, ["group:department 3"], "Night shift", kind="vote")
    third = _proposal(store, org, [org.documents[1][0].key], "Badges")
    for name in org.members(2)[:4] + org.outsiders[:1]:
        respond(store, first, name, "agree", now=NOW + 1)
    for name in org.members(3)[:2]:
        respond(store, second, name, "yes", now=NOW + 1)
    # reference: the old way, every proposal's affected people computed from the graph now
    expected: dict[str, list[int]] = {}
    for proposal in (first, second, third):
        answered = set(history(store, proposal))
        for entry in affected(store, proposal):
            pair = expected.setdefault(entry["key"], [0, 0])
            pair[0] += 1
            pair[1] += entry["person"] in answered
    assert {stage(store, p) for p in (first, second, third)} == {"made"}
    monkeypatch.setattr(service, "affected", lambda *a, **k: pytest.fail("recomputed"))
    got = {p["key"]: [p["affected"], p["responded"]] for p in participation(store)["people"]}
    assert got == expected
    assert sum(a for a, _ in got.values()) > 10 and sum(r for _, r in got.values()) == 7
    # closing keeps who was affected when it was decided
    monkeypatch.undo()
    closed = decision(store, first, now=CLOSES)
    assert stage(store, first) == "closed" and closed["affected"] == len(affected(store, first))


def test_a_proposal_without_a_snapshot_gets_one_on_first_use(
    org_store: tuple[Store, Org],
) -> None:
    from knotwork.services.decisions_affected import affected_runs, stage

    store, org = org_store
    proposal = _proposal(store, org)
    before = participation(store)
    with store.begin() as c:  # as if it was made before migration 0007
        c.execute(affected_runs.delete())
    assert stage(store, proposal) is None
    assert participation(store) == before
    assert stage(store, proposal) == "made"


def _reference_runoff(options: list[str], ballots: list[list[str]]) -> str:
    """Plain instant run-off: drop the option with fewest first choices until one has a
    majority."""
    left = list(options)
    while True:
        tally = {o: 0 for o in left}
        for ballot in ballots:
            for choice in ballot:
                if choice in left:
                    tally[choice] += 1
                    break
        total = sum(tally.values())
        leader = max(left, key=lambda o: (tally[o], -options.index(o)))
        if 2 * tally[leader] > total or len(left) == 1:
            return leader
        left.remove(min(left, key=lambda o: (tally[o], -options.index(o))))


@pytest.mark.parametrize(
    "ballots",
    [["a>b>c", "b>c>a", "c>b>a", "c>a", "b"], ["a", "a", "b>a", "c>b", "c>b"], ["c>a>b"] * 3],
)
def test_ranked_choice_matches_the_reference(ballots: list[str]) -> None:
    options = ["a", "b", "c"]
    got = outcome("ranked", options, ballots)["result"]
    assert got == _reference_runoff(options, [b.split(">") for b in ballots])


def test_outcome_rules() -> None:
    assert outcome("consent", [], ["agree", "abstain", "disagree", "disagree"])["result"] == (
        "not passed"
    )
    assert outcome("vote", ["yes", "no"], ["yes", "no", "abstain", "yes"])["result"] == "yes"
    assert outcome("vote", ["yes", "no"], ["yes", "no"])["result"] == "no majority"
    assert outcome("score", ["a", "b"], ["a=1,b=4", "a=5,b=3"])["result"] == "b"


def test_an_emergent_group_is_affected_when_no_declared_group_has_its_name(
    org_store: tuple[Store, Org],
) -> None:
    from knotwork.services.groups import groups

    store, org = org_store
    emergent = next(g for g in groups(store).groups if "pricing" in g.terms)
    proposal = _proposal(store, org, ["group:pricing"])
    found = {a["person"]: a for a in affected(store, proposal)}
    assert emergent.members is not None and set(emergent.members) <= set(found)
    assert "(emergent)" in found[emergent.members[0]]["evidence"][0]
    with pytest.raises(NotFoundError):
        _proposal(store, org, ["group:no such group"], text="Other")
