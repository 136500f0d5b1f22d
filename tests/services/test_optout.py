"""Opt-out in the library: a person who opted out appears in no result and counts in no group,
in every service (not only behind the API), on SQLite and PostgreSQL.

The organisation is Krackhardt's 21 managers (``tests/krackhardt_org.py``): departments
declared as groups, documents written and reviewed in each. The person who opts out is the
one who knows most about department 2's topic, so that each service shows them before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.errors import NotFoundError
from knotwork.services.authority import top_people
from knotwork.services.decisions import affected, decision, propose, respond
from knotwork.services.expertise import explain, who_knows
from knotwork.services.groups import groups
from knotwork.services.health import health
from knotwork.services.market import match, match_offer, open_items
from knotwork.services.me import me
from knotwork.services.native import need, offer
from knotwork.services.participation import participation
from knotwork.services.questions import questions
from knotwork.services.team import team
from knotwork.store.engine import Store
from knotwork.store.erase import opt_out, opted_out
from knotwork.store.identity import profile
from krackhardt_org import Org, build

TOPIC = "manufacturing assembly line quality inspection"
MONTH = 30 * 86_400


@dataclass
class Scene:
    """The store, the organisation, who opts out (``gone``: name, ``pid``: id)."""

    store: Store
    org: Org
    gone: str
    pid: int

    def key(self, name: str) -> str:
        return str(self.org.people[name].key)

    def out(self) -> None:
        assert opt_out(self.store, self.key(self.gone)) == self.pid
        assert opted_out(self.store) == {self.pid}


@pytest.fixture()
def scene(store: Store) -> Scene:
    org = build(store)
    expert = who_knows(store, TOPIC, limit=1).experts[0]
    name = next(n for n, p in org.people.items() if p.id == expert.id)
    return Scene(store, org, name, expert.id)


def test_who_knows_top_people_and_explain_leave_them_out(scene: Scene) -> None:
    store, pid = scene.store, scene.pid
    before = [e.id for e in who_knows(store, TOPIC, limit=21).experts]
    top = [r["id"] for r in top_people(store, limit=21)]
    assert pid in top and explain(store, scene.key(scene.gone), TOPIC)["rank"] == 1
    scene.out()
    after = [e.id for e in who_knows(store, TOPIC, limit=21).experts]
    # (the walk no longer passes through them, so the others' order may change)
    assert pid not in after and set(after[:3]) <= set(before) - {pid}
    shown = [r["id"] for r in top_people(store, limit=21)]
    assert set(shown) == set(top) - {pid} and len(shown) == len(top) - 1
    with pytest.raises(NotFoundError, match="opted out"):
        explain(store, scene.key(scene.gone), TOPIC)
    # and back in: they are found again
    opt_out(store, scene.key(scene.gone), out=False)
    assert [e.id for e in who_knows(store, TOPIC, limit=21).experts] == before


def test_groups_and_their_sizes_do_not_count_them(scene: Scene) -> None:
    store, pid = scene.store, scene.pid
    found = groups(store, k_min=3, admin=True)
    assert pid in found.membership
    scene.out()
    after = groups(store, k_min=3, admin=True)
    assert pid not in after.membership and after.people == found.people - 1
    assert all(pid not in (g.members or []) for g in after.groups)
    assert sum(g.size for g in after.groups) == len(after.membership)


def test_health_counts_one_person_fewer(scene: Scene) -> None:
    before = health(scene.store, k_min=3)
    scene.out()
    after = health(scene.store, k_min=3)
    assert after.people == before.people - 1
    brokers = after.to_dict()["metrics"]
    assert str(scene.key(scene.gone)) not in repr(brokers)


def test_team_never_proposes_them(scene: Scene) -> None:
    store, pid = scene.store, scene.pid
    assert pid in [m.id for m in team(store, TOPIC, size=4).members]
    scene.out()
    members = [m.id for m in team(store, TOPIC, size=4).members]
    assert len(members) == 4 and pid not in members


def test_market_matches_and_listings_leave_them_out(scene: Scene) -> None:
    store, pid, org = scene.store, scene.pid, scene.org
    asker = scene.key(org.members(1)[0])
    wanted = need(store, asker, f"{TOPIC} checklist")
    theirs = need(store, scene.key(scene.gone), "quality inspection of assembly tools")
    given = offer(
        store, scene.key(org.members(3)[0]), "quality inspection help", capacity="2h/week"
    )
    assert pid in [m["person"] for m in match(store, wanted, limit=21)]
    assert theirs in [n["need"] for n in match_offer(store, given)]
    scene.out()
    assert pid not in [m["person"] for m in match(store, wanted, limit=21)]
    assert theirs not in [n["need"] for n in match_offer(store, given)]
    assert theirs not in [n["id"] for n in open_items(store, "need")]
    assert wanted in [n["id"] for n in open_items(store, "need")]


def test_decisions_and_participation_do_not_count_them(scene: Scene) -> None:
    store, pid, org = scene.store, scene.pid, scene.org
    closes = int(time.time()) + MONTH
    author = scene.key(org.members(1)[0])
    proposal = propose(
        store, author, "Audit the line", affects=["group:department 2"], closes=closes
    )
    respond(store, proposal, scene.key(scene.gone), "agree", "the line needs it")
    assert [r["person"] for r in decision(store, proposal)["reasons"]] == [pid]
    reached = {a["person"] for a in affected(store, proposal)}
    own = f"department {org.department[scene.gone]}"
    department = next(g for g in participation(store, k_min=3)["groups"] if g["key"] == own)
    assert pid in reached
    scene.out()
    assert {a["person"] for a in affected(store, proposal)} == reached - {pid}
    shown = decision(store, proposal)
    assert shown["reasons"] == [] and shown["responded"] == 1  # their vote counts, unnamed
    answer = participation(store, k_min=3)
    assert pid not in {p["person"] for p in answer["people"]}
    again = next(g for g in answer["groups"] if g["key"] == own)
    assert again["people"] == department["people"] - 1


def test_no_one_elses_questions_or_profile_names_them(scene: Scene) -> None:
    store, pid = scene.store, scene.pid
    others = [n for n in scene.org.people if n != scene.gone]

    def named() -> set[str]:
        seen = set()
        for name in others:
            asked = questions(store, scene.key(name))
            people = {p["person"] for p in asked["owe"] + asked["talk_to"]}
            if pid in people:
                seen.add(f"questions of {name}")
            coworkers = {c["key"] for c in profile(store, scene.org.people[name].id)["coworkers"]}
            if scene.key(scene.gone) in coworkers:
                seen.add(f"profile of {name}")
        return seen

    assert any(s.startswith("profile") for s in named())
    scene.out()
    assert named() == set()
    # their own view still answers (they see their own figures), outside every group
    mine = me(store, scene.key(scene.gone), k_min=3)
    assert mine["network"]["group"] is None and mine["person"]["id"] == pid


def test_the_cli_opts_out_and_back_in(tmp_path: object) -> None:
    from pathlib import Path

    db = f"sqlite:///{Path(str(tmp_path))}/k.db"
    store = Store.open(db)
    org = build(store)
    runner = CliRunner()
    person = org.people["A07"]
    result = runner.invoke(app, ["opt-out", person.key, "--json", "--db", db])
    assert result.exit_code == 0, result.output
    assert opted_out(store) == {person.id}
    shown = runner.invoke(app, ["top", "people", "--limit", "30", "--json", "--db", db])
    assert shown.exit_code == 0 and person.key not in shown.output
    back = runner.invoke(app, ["opt-out", person.key, "--undo", "--db", db])
    assert back.exit_code == 0 and opted_out(store) == set()
    store.close()
