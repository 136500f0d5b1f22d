"""Full-text index for items: BM25 (Robertson & Zaragoza 2009) over item texts and file paths.

The documents are the ``texts`` of the store (commit messages, ...) and the paths of ``file``
nodes, split into words (``drivers/net/ice/ice_rxtx.c`` gives ``drivers net ice ice rxtx c``).
Scoring uses the ``bm25s`` library (sparse precomputed scores, Lucene's BM25 variant).

>>> index = TextIndex.from_documents([1, 2, 3], ["usb gadget: fix ethernet", "net/ice: reset",
...                                               "usb: core cleanup"])
>>> [node for node, _ in index.search("usb ethernet")]
[1, 3]
>>> tokenize("net/ice: Fix the Rx path")
['net', 'ice', 'fix', 'rx', 'path']
"""

from __future__ import annotations

import multiprocessing
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import bm25s
import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from knotwork.model import NodeKind
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.priority import lower_priority

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "not",
        "no",
        "but",
        "if",
        "into",
        "via",
        "all",
        "can",
        "should",
        "when",
        "which",
        "signed",
        "off",
    ]
)


def tokenize(text: str) -> list[str]:
    """Lowercased words of ``text`` (letters and digits), stopwords left out."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


class TextIndex:
    """A BM25 index over documents, each the text of one node."""

    def __init__(self, nodes: npt.NDArray[np.int64], retriever: bm25s.BM25 | None) -> None:
        self.nodes = nodes
        self._retriever = retriever
        self._vocabulary: dict[str, int] = dict(retriever.vocab_dict) if retriever else {}

    @classmethod
    def from_documents(cls, nodes: Sequence[int], documents: Sequence[str]) -> TextIndex:
        """An index of ``documents``, the i-th being the text of node ``nodes[i]``."""
        ids = np.asarray(nodes, dtype=np.int64)
        if not len(ids):
            return cls(ids, None)
        retriever = bm25s.BM25()
        corpus = [tokenize(d) or ["\x00"] for d in documents]
        retriever.index(corpus, show_progress=False)
        return cls(ids, retriever)

    @classmethod
    def build(cls, store: Store) -> TextIndex:
        """The index of every text in ``store`` and of every file path."""
        return cls.of_nodes(store, None)

    @classmethod
    def of_nodes(
        cls, store: Store, nodes: Sequence[int] | None, extra: Sequence[tuple[int, str]] = ()
    ) -> TextIndex:
        """The index of the texts of ``nodes`` (``None``: every text and every file path of
        ``store``) and of the ``extra`` (node, document) pairs; built in the indexing process
        when there is one (:func:`index_elsewhere`) and the store is a database file or server.
        """
        if _INDEXER is not None and not store.in_memory:
            made: TextIndex = _INDEXER.submit(_index_at, store.url, nodes, extra).result()
            return made
        return _index(store, nodes, extra)

    def scores(self, query: str) -> npt.NDArray[np.float64]:
        """The BM25 score of every document for ``query`` (zeros when no word is known)."""
        words = [w for w in tokenize(query) if w in self._vocabulary]
        if self._retriever is None or not words:
            return np.zeros(len(self.nodes))
        return np.asarray(self._retriever.get_scores(words), dtype=np.float64)

    def search(self, query: str, limit: int = 100) -> list[tuple[int, float]]:
        """The best ``limit`` (node id, score) pairs for ``query``, best first, scores > 0."""
        scores = self.scores(query)
        if not len(scores):
            return []
        top = np.argsort(-scores, kind="stable")[:limit]
        return [(int(self.nodes[i]), float(scores[i])) for i in top if scores[i] > 0]


def _index(
    store: Store, wanted: Sequence[int] | None, extra: Sequence[tuple[int, str]]
) -> TextIndex:
    nodes, texts = schema.nodes, schema.texts
    rows: list[tuple[int, str]] = []
    with store.connect() as connection:
        if wanted is None:
            rows += [
                (int(r[0]), str(r[1]))
                for r in connection.execute(select(texts.c.node, texts.c.text))
            ]
            rows += [
                (int(r[0]), str(r[1]))
                for r in connection.execute(
                    select(nodes.c.id, nodes.c.key).where(nodes.c.kind == NodeKind.FILE.value)
                )
            ]
        else:
            for start in range(0, len(wanted), 900):
                chunk = list(wanted[start : start + 900])
                query = select(texts.c.node, texts.c.text).where(texts.c.node.in_(chunk))
                rows += [(int(r[0]), str(r[1])) for r in connection.execute(query)]
    rows += extra
    return TextIndex.from_documents([r[0] for r in rows], [r[1] for r in rows])


def _index_at(
    url: str, wanted: Sequence[int] | None, extra: Sequence[tuple[int, str]]
) -> TextIndex:
    """:func:`_index` in the indexing process (which opens the store by its URL)."""
    store = Store.open(url, upgrade=False)
    try:
        return _index(store, wanted, extra)
    finally:
        store.close()


#: The indexing process's priority (``os.nice`` increment): the lowest, as ingest jobs. Its
#: texts come from a job's batches, and at 10 it took the cores from readers while a job ran
#: (``bench/api_load.py``: read p99 during ingest 145-184 ms at 10, 109-126 ms at 19, with
#: :data:`~knotwork.graph.serving.REST_SHARE` 0.75).
INDEX_NICE = 19


_INDEXER: ProcessPoolExecutor | None = None
_INDEXER_LOCK = threading.Lock()


def index_elsewhere(enabled: bool = True) -> None:
    """Build text indexes in one separate process, at low priority, from now on (``False``:
    in the calling thread again, and stop that process). A server does so: splitting texts
    into words is pure Python, and in the server's own process it would hold the interpreter
    lock that the threads answering requests need.

    >>> index_elsewhere(True); index_elsewhere(False)
    """
    global _INDEXER
    with _INDEXER_LOCK:
        if enabled and _INDEXER is None:
            context = multiprocessing.get_context("spawn")  # the server has threads: no fork
            _INDEXER = ProcessPoolExecutor(
                1, mp_context=context, initializer=lower_priority, initargs=(INDEX_NICE,)
            )
        elif not enabled and _INDEXER is not None:
            _INDEXER.shutdown(cancel_futures=True)
            _INDEXER = None


__all__ = ["STOPWORDS", "TextIndex", "index_elsewhere", "tokenize"]
