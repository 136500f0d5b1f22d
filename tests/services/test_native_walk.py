"""The native walks stay live: a walk matrix patched after writes equals the one built anew."""

from __future__ import annotations

import numpy as np
import pytest

from knotwork.graph.sample import commit_record, sample_store
from knotwork.graph.view import GraphView, cached_view
from knotwork.ingest.base import Batch
from knotwork.services import native_walk
from knotwork.services.decisions import affected, propose
from knotwork.services.market import PROXIMITY_WEIGHTS
from knotwork.services.native import need, post
from knotwork.store.writer import SourceInfo, write_batch

NOW = 1_700_000_000


def test_a_patched_matrix_equals_the_matrix_built_from_every_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = sample_store()
    first = cached_view(store)
    native_walk.walk_matrix(first, "proximity", PROXIMITY_WEIGHTS)
    # writes: new nodes between old ones, new links, a decay reference that moves a year on
    post(store, "ada@example.org", "Notes on ice", cites=["drivers/net/ice/ice.c"], now=NOW)
    need(store, "bob@example.org", "help with ice hotplug", now=NOW + 365 * 86_400)
    later = cached_view(store)
    assert later is not first and later.n_links > first.n_links and later.as_of > first.as_of
    built = GraphView.matrix
    monkeypatch.setattr(GraphView, "matrix", lambda *a: pytest.fail("rebuilt, not patched"))
    patched = native_walk.walk_matrix(later, "proximity", PROXIMITY_WEIGHTS)
    monkeypatch.setattr(GraphView, "matrix", built)
    expected = later.matrix(PROXIMITY_WEIGHTS)
    assert patched.shape == expected.shape
    assert np.abs((patched - expected).toarray()).max() < 1e-6 * expected.max()
    # a view built from scratch is another lineage: its matrix is built, not patched
    fresh = GraphView.build(store)
    assert (native_walk.walk_matrix(fresh, "proximity", PROXIMITY_WEIGHTS) != expected).nnz == 0


def test_affected_right_after_a_write_sees_the_write() -> None:
    store = sample_store()
    proposal = propose(
        store, "ada@example.org", "Rework ice", affects=["drivers/net/ice/"],
        closes=NOW + 86_400, now=NOW,
    )  # fmt: skip
    before = {a["key"] for a in affected(store, proposal)}
    # someone new to the driver writes about one of its files: the next answer includes them
    write_batch(
        store,
        SourceInfo("test", "test:more", "x"),
        Batch([commit_record("f6" * 20, "fay@example.org", NOW, ["docs/x.md"], "docs")], [], {}),
    )
    post(store, "fay@example.org", "ice: notes", cites=["drivers/net/ice/ice.c"], now=NOW + 1)
    after = {a["key"] for a in affected(store, proposal)}
    assert "fay@example.org" not in before and "fay@example.org" in after
