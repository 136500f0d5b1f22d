"""Text indexes built in the indexing process equal those built in the caller."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from knotwork.graph.sample import sample_store
from knotwork.store.text import TextIndex, index_elsewhere


def test_the_indexing_process_builds_the_same_index(tmp_path: Path) -> None:
    store = sample_store(f"sqlite:///{tmp_path / 'texts.db'}")
    here = TextIndex.build(store)
    part_here = TextIndex.of_nodes(store, [int(n) for n in here.nodes[:3]], [(7, "extra words")])
    index_elsewhere(True)
    try:
        there = TextIndex.build(store)
        part_there = TextIndex.of_nodes(
            store, [int(n) for n in here.nodes[:3]], [(7, "extra words")]
        )
    finally:
        index_elsewhere(False)
    for query in ("hotplug memory", "ice reset", "extra"):
        assert np.array_equal(here.nodes, there.nodes)
        assert np.allclose(here.scores(query), there.scores(query))
        assert np.array_equal(part_here.nodes, part_there.nodes)
        assert np.allclose(part_here.scores(query), part_there.scores(query))
    assert part_there.search("extra") == [(7, part_there.search("extra")[0][1])]
    store.close()
