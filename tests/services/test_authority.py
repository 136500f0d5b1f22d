"""Authority: PageRank over the item + person graph, checked against networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from knotwork.graph.sample import commit_record, sample_store, store_of
from knotwork.graph.view import GraphView
from knotwork.services.authority import AUTHORITY_WEIGHTS, authority, top_items, top_people

T = 1_600_000_000
DAY = 86_400


def test_authority_is_pagerank_of_the_weighted_credit_graph() -> None:
    view = GraphView.build(sample_store())
    ours = authority(view).vector
    graph = nx.DiGraph()
    graph.add_nodes_from(range(view.n_nodes))
    for s, d, k, w in zip(view.src, view.dst, view.link_kind, view.weight, strict=True):
        forward, backward = AUTHORITY_WEIGHTS.get(
            [
                "authored",
                "changed",
                "cites",
                "replies",
                "reviews",
                "mentions",
                "reacts",
                "member_of",
                "reports_to",
                "needs",
                "offers",
                "responds",
                "affects",
                "uses",
                "acks",
                "tests",
                "reports",
                "suggests",
                "handles",
            ][k],
            (0.0, 0.0),
        )
        for a, b, x in ((s, d, forward), (d, s, backward)):
            if x > 0:
                old = graph.get_edge_data(a, b, {"weight": 0.0})["weight"]
                graph.add_edge(int(a), int(b), weight=old + w * x)
    theirs = nx.pagerank(graph, tol=1e-13, max_iter=1000)
    assert np.allclose(ours, [theirs[i] for i in range(view.n_nodes)], atol=1e-7)


def test_credit_flows_to_authors_and_reviewers() -> None:
    # one file everybody builds on; ada writes it, bob reviews, cy writes an unrelated file
    records = [
        commit_record(f"a{i}", "ada@x.org", T + i * DAY, ["core.c"], reviews=["bob@x.org"])
        for i in range(5)
    ]
    records += [
        commit_record(f"u{i}", f"user{i}@x.org", T + i * DAY, ["core.c", f"u{i}.c"])
        for i in range(5)
    ]
    records.append(commit_record("c0", "cy@x.org", T, ["lonely.c"]))
    records.append(commit_record("b0", "bot:ci@x.org", T + 9 * DAY, ["core.c"]))
    store = store_of(records)
    people = [p["key"] for p in top_people(store, limit=50)]
    assert people[0] == "ada@x.org"
    assert people.index("bob@x.org") < people.index("cy@x.org")
    assert "ci@x.org" not in people  # bots are left out
    files = [f["key"] for f in top_items(store, kind="file")]
    assert files[0] == "core.c"
    assert {i["kind"] for i in top_items(store)} <= {"file", "commit"}


def test_warm_start_after_a_change_gives_the_same_answer() -> None:
    store = sample_store()
    cold = authority(GraphView.build(store), warm_key="warm-start-test")
    assert authority(GraphView.build(store)).iterations == cold.iterations
    # a view built again (as after a change) starts from the last result of the same key
    again = authority(GraphView.build(store), warm_key="warm-start-test")
    assert again.iterations < cold.iterations
    assert np.allclose(cold.vector, again.vector, atol=1e-7)


def test_a_view_ranks_once() -> None:
    view = GraphView.build(sample_store())
    first = authority(view)
    assert authority(view) is first  # rankings and profiles read it on every request
    assert authority(view, damping=0.5) is not first


def test_top_people_reports_activity() -> None:
    entry = top_people(sample_store(), limit=1)[0]
    assert entry["rank"] == 1 and entry["kind"] == "person"
    assert entry["last_active"] == 1_640_995_200 and entry["inactive"] is False
    with pytest.raises(ValueError):
        top_items(sample_store(), kind="nonsense")


def test_fast_kernel_agrees_and_an_extended_view_starts_warm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import knotwork.services.authority as service
    from knotwork.graph.view import cached_view
    from knotwork.ingest.base import Batch
    from knotwork.store.writer import SourceInfo, write_batch

    store = sample_store()
    slow = authority(GraphView.build(store)).vector
    monkeypatch.setattr(service, "FAST_NODES", 0)
    first = cached_view(store)
    fast = authority(first)
    assert np.abs(fast.vector - slow).sum() < 1e-5
    late = commit_record("z1", "zoe@x.org", 1_641_000_000, ["drivers/net/ice/ice.c"])
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch([late], [], {}))
    second = cached_view(store)
    assert second.previous is not None  # extended from the first view
    cold = authority(GraphView.build(store))
    warm = authority(second)
    assert warm.iterations < cold.iterations
    assert np.abs(warm.vector - cold.vector).sum() < 1e-5
