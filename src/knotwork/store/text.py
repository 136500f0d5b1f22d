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

import copy
import multiprocessing
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

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


class Vocabulary:
    """The words of an index and their token ids, as one sorted byte string and two arrays.

    An index travels from the indexing process to a server by pickle (:func:`index_elsewhere`),
    and unpickling a dict of words holds the interpreter lock throughout: 120 ms for the
    400,000 words of DPDK plus 180,000 mails, during which a server answered nothing. These
    buffers unpickle as copies of memory; a word is found by binary search.

    >>> words = Vocabulary({"ice": 4, "eal": 9, "mempool": 2})
    >>> words.get("eal"), words.get("ice"), words.get("ring"), len(words)
    (9, 4, None, 3)
    >>> words.as_dict() == {"ice": 4, "eal": 9, "mempool": 2}
    True
    """

    def __init__(self, ids: Mapping[str, int]) -> None:
        encoded = sorted(word.encode() for word in ids)  # UTF-8 keeps the order of the text
        self._blob = b"".join(encoded)
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        self._starts = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        self._ids = np.fromiter(
            (ids[word.decode()] for word in encoded), dtype=np.int64, count=len(encoded)
        )

    def __len__(self) -> int:
        return len(self._ids)

    def _word(self, position: int) -> bytes:
        return self._blob[int(self._starts[position]) : int(self._starts[position + 1])]

    def get(self, word: str) -> int | None:
        """The token id of ``word``, ``None`` when the index does not know it."""
        key, low, high = word.encode(), 0, len(self._ids)
        while low < high:
            middle = (low + high) // 2
            if self._word(middle) < key:
                low = middle + 1
            else:
                high = middle
        return int(self._ids[low]) if low < len(self._ids) and self._word(low) == key else None

    def as_dict(self) -> dict[str, int]:
        """Every word and its token id."""
        return {self._word(i).decode(): int(t) for i, t in enumerate(self._ids.tolist())}


class TextIndex:
    """A BM25 index over documents, each the text of one node."""

    def __init__(self, nodes: npt.NDArray[np.int64], retriever: bm25s.BM25 | None) -> None:
        self.nodes = nodes
        self._vocabulary = Vocabulary(retriever.vocab_dict if retriever else {})
        if retriever is not None:
            # kept without its own dict and set of words (see :class:`Vocabulary`): the set
            # is a container the garbage collector walks item by item, stopping every thread
            retriever = copy.copy(retriever)
            retriever.vocab_dict, retriever.unique_token_ids_set = {}, set()
        self._retriever = retriever

    def save(self, folder: str | Path) -> None:
        """Write the index to ``folder`` (made if need be), for :meth:`load`.

        >>> import tempfile
        >>> index = TextIndex.from_documents([7, 8], ["ring buffer", "mempool cache"])
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     index.save(folder)
        ...     TextIndex.load(folder).search("mempool")[0][0]
        8
        """
        Path(folder).mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            retriever = copy.copy(self._retriever)
            retriever.vocab_dict = self._vocabulary.as_dict()  # not kept (see __init__)
            retriever.save(str(folder), show_progress=False)
        np.save(Path(folder) / "nodes.npy", self.nodes)

    @classmethod
    def load(cls, folder: str | Path) -> TextIndex:
        """An index written by :meth:`save` (its scores mapped from disk, not read)."""
        nodes = np.load(Path(folder) / "nodes.npy")
        if not len(nodes):
            return cls(nodes, None)
        retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False, verbosity=0)
        return cls(nodes, retriever)

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
        found = [self._vocabulary.get(word) for word in tokenize(query)]
        ids = [token for token in found if token is not None]
        if self._retriever is None or not ids:
            return np.zeros(len(self.nodes))
        return np.asarray(self._retriever.get_scores_from_ids(ids), dtype=np.float64)

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


__all__ = ["STOPWORDS", "TextIndex", "Vocabulary", "index_elsewhere", "tokenize"]
