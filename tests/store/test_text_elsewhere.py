"""Text indexes built in the indexing process equal those built in the caller."""

from __future__ import annotations

import pickle
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


def test_an_index_travels_without_a_dict_of_words_and_saves_whole(tmp_path: Path) -> None:
    words = [f"word{i}" for i in range(5000)]
    texts = [f"{words[i]} {words[(7 * i) % 5000]} mempool" for i in range(5000)]
    index = TextIndex.from_documents(list(range(5000)), texts)
    travelled = pickle.loads(pickle.dumps(index))
    # the words went as three buffers, not as the retriever's dict (slow to unpickle)
    assert travelled._retriever is not None and travelled._retriever.vocab_dict == {}
    assert len(travelled._vocabulary) == len(index._vocabulary) > 5000
    for query in ("word42 mempool", "word4999", "unknown words", "MEMPOOL"):
        assert np.array_equal(travelled.scores(query), index.scores(query))
    assert travelled.search("word17")[0] == index.search("word17")[0]
    # written to disk after travelling (as the market's copy is), it loads with its words
    travelled.save(tmp_path / "saved")
    loaded = TextIndex.load(tmp_path / "saved")
    assert np.allclose(loaded.scores("word42 mempool"), index.scores("word42 mempool"))
