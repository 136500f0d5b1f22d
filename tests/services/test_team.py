"""Team formation on a small project: two close-knit teams, one loner who did much of the net
work alone (coverage alone would pick them, communication cost should not) and an early net
expert who left long ago."""

from __future__ import annotations

import numpy as np
import pytest

from knotwork.errors import InputError
from knotwork.graph.sample import commit_record
from knotwork.ingest.base import Batch
from knotwork.model import Node
from knotwork.services.team import team
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

DAY = 86_400
T0 = 1_600_000_000
NET = [f"net{i}@example.org" for i in range(5)]
MEM = [f"mem{i}@example.org" for i in range(5)]
LONER = "loner@example.org"
GONE = "gone@example.org"


def records() -> list:
    rng = np.random.default_rng(1)
    out = []
    for number in range(400):
        when = T0 + number * DAY
        people, folder = (NET, "drivers/net/") if number % 2 else (MEM, "lib/mem/")
        author, reviewer = (str(p) for p in rng.choice(people, size=2, replace=False))
        if number % 10 == 0:  # the teams know each other a little
            reviewer = str(rng.choice(MEM if people is NET else NET))
        files = [f"{folder}{rng.choice(['rx', 'tx', 'pool', 'heap'])}.c"]
        out.append(
            commit_record(
                f"{number:040x}", author, when, files, f"fix {folder}", reviews=[reviewer]
            )
        )
    for number in range(70):  # the loner: much work on the net driver, reviewed by nobody
        when = T0 + (number * 5 + 2) * DAY
        out.append(commit_record(f"f{number:039x}", LONER, when, ["drivers/net/rx.c"], "rework"))
    for number in range(30):  # an early net expert who left four years before the end
        when = T0 - (5 * 365 - number) * DAY
        out.append(commit_record(f"e{number:039x}", GONE, when, ["drivers/net/rx.c"], "rx"))
    return out


@pytest.fixture()
def filled(store: Store) -> Store:
    write_batch(store, SourceInfo("git", "git:team", "team"), Batch(records(), [], {}))
    return store


def pid(email: str) -> int:
    return Node.person(email).id


def test_team_covers_the_purpose_and_stays_connected(filled: Store) -> None:
    proposal = team(filled, "drivers/net/ lib/mem/", size=3)
    ids = [m.id for m in proposal.members]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert {pid(p) for p in NET} & set(ids) and {pid(p) for p in MEM} & set(ids)
    assert pid(LONER) not in ids[1:]  # once someone is in, the unconnected loner is too far
    assert pid(GONE) not in ids
    assert proposal.coverage > 0.5 and proposal.relevant_items > 10
    assert proposal.members[0].hops == 0 and all(1 <= m.hops <= 2 for m in proposal.members[1:])
    for member in proposal.members:
        assert member.paths or member.covers
    gains = [m.gain for m in proposal.members]
    assert gains[0] == max(gains) and abs(sum(gains) - proposal.coverage) < 1e-3


def test_communication_cost_keeps_the_loner_out(filled: Store) -> None:
    """With no cost per hop the loner, who did much of the net work alone, joins for coverage;
    with the default cost a connected colleague is preferred."""
    free = team(filled, "drivers/net/", size=3, cost_per_hop=0.0)
    costly = team(filled, "drivers/net/", size=3)
    assert pid(LONER) in [m.id for m in free.members]
    assert not free.connected and free.mean_hops is None
    assert pid(LONER) not in [m.id for m in costly.members]
    assert costly.connected and costly.max_hops == 1
    assert free.coverage > costly.coverage


def test_one_area_and_capacity_hook(filled: Store) -> None:
    net_only = team(filled, "drivers/net/", size=2)
    assert all(m.id in {pid(p) for p in NET} | {pid(LONER)} for m in net_only.members)
    favourite = pid(NET[4])
    boosted = team(filled, "drivers/net/", size=2, capacity={favourite: 5.0})
    assert boosted.members[0].id == favourite and boosted.members[0].capacity


def test_bad_purpose(filled: Store) -> None:
    with pytest.raises(InputError):
        team(filled, "   ")
    with pytest.raises(InputError):
        team(filled, "no/such/path/")
    with pytest.raises(InputError):
        team(filled, "drivers/net/", size=0)
