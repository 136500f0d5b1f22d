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

import re
from collections.abc import Sequence

import bm25s
import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from knotwork.model import NodeKind
from knotwork.store import schema
from knotwork.store.engine import Store

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
        nodes, texts = schema.nodes, schema.texts
        with store.connect() as connection:
            rows = list(connection.execute(select(texts.c.node, texts.c.text)).all())
            rows += connection.execute(
                select(nodes.c.id, nodes.c.key).where(nodes.c.kind == NodeKind.FILE.value)
            ).all()
        return cls.from_documents([r[0] for r in rows], [r[1] for r in rows])

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


__all__ = ["STOPWORDS", "TextIndex", "tokenize"]
