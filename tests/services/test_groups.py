"""Groups and their history on a small, real-looking project: three teams over eighteen months.

*net* (six people, ``drivers/net/``) and *mem* (six, ``lib/mem/``) work from the start; *docs*
(six, ``doc/guides/``) starts after six months; after a year *net* and *mem* work as one
(each commit written by one and reviewed by the other). One reviewer in six comes from another
team, so the groups are not trivially separated.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from groupsfactory import DAY, PEOPLE, T0, TEAMS, work_records
from knotwork.errors import ConfigError
from knotwork.graph.communities import label_propagation, louvain
from knotwork.graph.sample import commit_record
from knotwork.graph.view import LINK_KINDS, NODE_KINDS, GraphView, LinkArrays, NodeArrays
from knotwork.ingest.base import Batch
from knotwork.model import Node
from knotwork.services.groups import find_groups, groups, projection
from knotwork.services.groups_history import history, match
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch


def fill(store: Store) -> Store:
    write_batch(store, SourceInfo("git", "git:teams", "teams"), Batch(work_records(), [], {}))
    return store


def person_id(email: str) -> int:
    return Node.person(email).id


def test_groups_are_the_teams_with_their_words_and_paths(store: Store) -> None:
    fill(store)
    moment = T0 + 330 * DAY  # before net and mem merge
    result = groups(store, as_of=moment, k_min=5)
    assert result.people == 18 and result.isolated == 0
    truth = {person_id(p): team for team, people in PEOPLE.items() for p in people}
    found = [result.membership[p] for p in truth]
    assert normalized_mutual_info_score(list(truth.values()), found) > 0.75
    assert len(result.groups) == 3 and not result.suppressed
    by_path = {g.paths[0]: g for g in result.groups}
    assert set(by_path) == {"drivers/net/", "lib/mem/", "doc/guides/"}
    for team, (folder, words) in TEAMS.items():
        group = by_path[folder]
        assert set(group.terms[:4]) <= set(words) | {team}
        assert group.cohesion > 0.6
        members = set(group.members or [])
        assert len(members & {person_id(p) for p in PEOPLE[team]}) >= 5
    assert 0.3 < result.modularity < 0.7


def test_small_groups_are_suppressed_unless_admin(store: Store) -> None:
    fill(store)
    moment = T0 + 330 * DAY
    hidden = groups(store, as_of=moment, k_min=7)
    assert hidden.suppressed == sum(g.size < 7 for g in hidden.groups) > 0
    for group in hidden.groups:
        if group.suppressed:
            assert group.members is None and not group.terms and not group.paths
    shown = {g.id for g in hidden.groups if not g.suppressed}
    listed = hidden.to_dict()["membership"]
    assert all(g in shown for g in listed.values())
    admin = groups(store, as_of=moment, k_min=7, admin=True)
    assert not admin.suppressed and all(g.members for g in admin.groups)
    with pytest.raises(ConfigError):
        groups(store, k_min=2)


def test_history_tells_formed_and_merged(store: Store) -> None:
    fill(store)
    events = history(store, every_days=90, k_min=4)
    kinds = [(e.kind, (e.time - T0) // DAY) for e in events]
    formed = [day for kind, day in kinds if kind == "formed"]
    assert formed[:2] == [90, 90]  # net and mem
    assert any(180 < day <= 270 for day in formed)  # docs
    merged = [e for e in events if e.kind == "merged"]
    assert merged and all((e.time - T0) // DAY > 360 for e in merged)
    assert len(merged[0].sources) == 2 and merged[0].size >= 10
    assert not [e for e in events if e.kind == "dissolved" and e.size]


def test_projection_down_weights_crowded_items() -> None:
    """An item of p participants adds 1 / (p - 1) to each pair; above the cap it adds nothing."""
    records = [
        commit_record("a" * 40, "a@x.org", T0, ["f.c"], "x", reviews=["b@x.org"]),
        commit_record("b" * 40, "a@x.org", T0, ["f.c"], "x", reviews=["b@x.org", "c@x.org"]),
    ]
    store = Store.open("sqlite://")
    write_batch(store, SourceInfo("git", "git:p", "p"), Batch(records, [], {}))
    view = GraphView.build(store, as_of=T0)
    proj = projection(view)
    rows = {int(i): r for r, i in enumerate(proj.ids.tolist())}
    a, b, c = (rows[person_id(f"{x}@x.org")] for x in "abc")
    dense = proj.adjacency.toarray()
    assert dense[a, b] == pytest.approx(1.0 + 0.5) and dense[a, c] == pytest.approx(0.5)
    capped = projection(view, max_participants=2).adjacency.toarray()
    assert capped[a, b] == pytest.approx(1.0) and capped[a, c] == 0
    top = projection(view, top_k=1).adjacency.toarray()
    assert top[a, b] == pytest.approx(1.5)  # a's and b's strongest tie
    assert (top[c] > 0).sum() == 1 and (top == top.T).all()  # c keeps one of its equal ties
    assert find_groups(view, k_min=3, admin=True).groups[0].size == 3


def test_match_is_jaccard_above_threshold() -> None:
    table = match([{1, 2, 3, 4}, {5, 6}], [{1, 2, 3}, {6, 7, 8, 9}], 0.3)
    assert table.tolist() == [[0.75, 0.0], [0.0, 0.0]]


SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def lazega_view(layers: tuple[str, ...]) -> tuple[GraphView, list[dict[str, str]]]:
    folder = SHARED / "lazega"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the team's shared real data sets are not here")
    with open(folder / "Lazega_Lawyers__Attributes.csv", newline="") as handle:
        people = list(csv.DictReader(handle))
    matrix = sum(np.loadtxt(folder / f"Lazega_Lawyers__{n}.csv", delimiter=",") for n in layers)
    src, dst = np.nonzero(matrix)
    ids = np.arange(1, len(people) + 1, dtype=np.int64)
    nodes = NodeArrays(
        ids,
        np.full(len(ids), NODE_KINDS.index("person"), np.int16),
        np.zeros(len(ids), np.int64),
        [p["NodeName"] for p in people],
    )
    links = LinkArrays(
        ids[src],
        ids[dst],
        np.full(len(src), LINK_KINDS.index("mentions"), np.int8),
        np.zeros(len(src), np.int64),
        np.ones(len(src), np.float32),
        np.zeros(len(src), np.int64),
    )
    return GraphView.from_arrays(nodes, links), people


def test_lazega_groups_follow_office_and_practice_at_least_as_well_as_the_baselines() -> None:
    """The law firm's co-work and advice ties: groups vs office and practice (see
    bench/eval_groups.py for Enron and the full table)."""
    view, people = lazega_view(("Cowork", "Advice"))
    proj = projection(view)
    adjacency = proj.adjacency
    found = find_groups(view, admin=True, k_min=3, label=False)
    ours = [found.membership[int(i)] for i in proj.ids]
    for key in ("Office", "Practice"):
        truth = [people[int(i) - 1][key] for i in proj.ids]
        mine = adjusted_rand_score(truth, ours)
        assert mine > 0.4
        assert mine >= adjusted_rand_score(truth, louvain(adjacency, seed=0)[0]) - 1e-9
        assert mine > adjusted_rand_score(truth, label_propagation(adjacency, seed=0)[0])
        assert normalized_mutual_info_score(truth, ours) > 0.5
