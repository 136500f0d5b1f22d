"""Expertise: who knows about X, with the evidence.

A query is free text, paths, path prefixes (``drivers/net/ice/``) or globs (``lib/eal/*.h``),
mixed at will. It becomes **seeds**: the files each path term matches, each term weighted by
how specific it is (``log(1 + files / matched)``, spread over its files), and the items whose
text matches the words best (BM25, :mod:`knotwork.store.text`), weighted by score. From the
seeds runs a personalized PageRank (Haveliwala 2002) on the undirected person - item - file
graph, where every kind of taking part counts as knowledge: authoring, reviewing, acking,
testing and handling a change (the maintainer who applies a patch signs it off). People are
ranked by the mass the walk leaves on them, divided by ``degree ** specificity`` so that those
who take part in everything do not lead every answer, and discounted when they have not been
active for long (shown as inactive). Bots are left out of the walk. Each expert comes with the
evidence: the items through which most of their mass came, with the kinds of link and dates.

>>> from knotwork.graph.sample import sample_store
>>> store = sample_store()
>>> answer = who_knows(store, "drivers/net/ice/")
>>> [e.key for e in answer.experts]
['bob@example.org', 'ada@example.org']
>>> [(e.key[:4], e.links) for e in answer.experts[0].evidence][:2]
[('c1c1', ['handles', 'reviews']), ('c3c3', ['handles'])]
>>> sorted(e.key for e in who_knows(store, "hotplug memory").experts)
['ada@example.org', 'bob@example.org']
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from knotwork.errors import InputError, NotFoundError
from knotwork.graph.live import lineage
from knotwork.graph.ppr import FastWalk, top
from knotwork.graph.rank import Walk
from knotwork.graph.view import (
    DAY,
    EXPERTISE_HALF_LIFE_DAYS,
    LINK_KINDS,
    NODE_KINDS,
    GraphView,
    cached_view,
)
from knotwork.model import NodeKind
from knotwork.services.authority import describe
from knotwork.store.engine import Store
from knotwork.store.identity import resolve
from knotwork.store.text import TextIndex

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_GLOB = re.compile(r"[*?\[]")

#: Views with more nodes than this rank with the numba kernels of :mod:`knotwork.graph.ppr`
#: (smaller ones with scipy, which needs no compiled code to load: faster for the CLI).
FAST_NODES = 20_000
#: The text index of an extended view is its previous one plus a small index of the new
#: nodes' texts; after this many such parts the small parts are merged into one (cheap: only
#: the new nodes' texts are read again). When the small parts hold more documents than the
#: first (and more than :data:`TEXT_REBUILD_NODES`) it is rebuilt in full.
TEXT_PARTS = 8
#: The last index built for each setting: an extended view reuses its text index.
_LATEST: dict[tuple[str, str], ExpertiseIndex] = {}
TEXT_REBUILD_NODES = 10_000


@dataclass(frozen=True)
class ExpertiseSettings:
    """How who-knows weighs things; the defaults were tuned on two projects' maintainer files.

    ``weights``: symmetric weight of each link kind in the walk. ``damping``: probability that
    the walk goes on at each step (lower keeps it closer to the seeds). ``specificity``: the
    exponent of the degree that a person's mass is divided by. ``path_specificity``: the
    exponent of a path term's weight ``log(1 + files / matched)``. ``text_share``: the share of
    seed mass given to text matches when a query has both paths and words. ``text_seeds``: how
    many best text matches seed the walk. ``inactive_after_days``: grace before people are
    discounted by one half per ``half_life`` of further inactivity. ``commit_spread``: a
    commit's links to the files it changed weigh ``1 / files ** commit_spread`` each.
    ``file_activity``: a path term's weight is spread over its files in proportion to
    ``commits ** file_activity`` (0: evenly).
    """

    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "authored": 1.0,
            "reviews": 1.0,
            "acks": 1.0,
            "tests": 0.25,
            "reports": 0.15,
            "suggests": 0.15,
            "handles": 0.35,
            "changed": 1.0,
            "cites": 0.1,
        }
    )
    damping: float = 0.5
    specificity: float = 0.3
    path_specificity: float = 1.0
    text_share: float = 0.5
    text_seeds: int = 200
    inactive_after_days: float = 2 * 365.0
    commit_spread: float = 0.5
    file_activity: float = 0.5
    tol: float = 1e-6
    max_iter: int = 60


@dataclass(frozen=True)
class Evidence:
    """An item through which an expert's mass came: its share, link kinds, date, files."""

    id: int
    kind: str
    key: str
    name: str
    time: int | None
    share: float
    links: list[str]
    files: list[str]


@dataclass(frozen=True)
class Expert:
    """One person in an answer."""

    rank: int
    id: int
    key: str
    name: str
    score: float
    last_active: int | None
    inactive: bool
    evidence: list[Evidence]


@dataclass(frozen=True)
class Answer:
    """The answer to a who-knows query: what the query matched, and the experts."""

    query: str
    as_of: int
    terms: list[dict[str, Any]]
    experts: list[Expert]

    def to_dict(self) -> dict[str, Any]:
        """The answer as plain data (for ``--json``)."""
        return asdict(self)


class ExpertiseIndex:
    """What who-knows needs of one view: the walk, the sorted paths, the text index."""

    def __init__(
        self,
        view: GraphView,
        settings: ExpertiseSettings,
        previous: ExpertiseIndex | None = None,
    ) -> None:
        self.view = view
        self.settings = settings
        chosen = {k: (w, w) for k, w in settings.weights.items() if k != "changed"}
        adjacency = view.matrix(chosen) + self._changes(view, settings)
        keep = (~view.mask(NodeKind.PERSON)) | view.people()
        scale = sp.diags(keep.astype(np.float64))
        self.adjacency = sp.csr_matrix(scale @ adjacency @ scale)
        self.degree: FloatArray = np.asarray(self.adjacency.sum(axis=1)).ravel()
        self.walk: Walk | None = None
        self.fast: FastWalk | None = None
        if view.n_nodes > FAST_NODES:
            # the walk is symmetric: its blocks are its connected components, each solved
            # by Gauss-Seidel sweeps (on DPDK 12 link passes against 20 power iterations,
            # 18 ms against 46 ms a query on one thread, and 10x closer to the exact answer)
            self.fast = FastWalk(self.adjacency, order="scc")
        else:
            self.walk = Walk(self.adjacency)
        files = np.flatnonzero(view.mask(NodeKind.FILE) & (self.degree > 0))
        # sorted as fixed-width text: numpy sorts it without the interpreter lock (as Python
        # objects the sort held it 12 ms on DPDK, stopping a server's readers)
        order = np.argsort(view.keys[files].astype(str), kind="stable")
        self.file_positions: IntArray = files[order]
        #: The paths of the files in order (an array: the garbage collector does not walk it).
        self.paths: npt.NDArray[np.object_] = view.keys[self.file_positions]
        #: Positions of the people the walk reaches (who-knows ranks only them).
        self.people: IntArray = np.flatnonzero(view.people() & (self.degree > 0))
        changed = view.link_kind == LINK_KINDS.index("changed")
        self.file_commits = np.bincount(view.dst[changed], minlength=view.n_nodes).astype(
            np.float64
        )
        self._text: list[TextIndex] | None = None
        self._text_nodes: IntArray | None = None
        self._pending: IntArray = np.zeros(0, dtype=np.int64)
        self._text_lock = threading.Lock()
        if previous is not None and previous._text is not None:
            # An extended view: keep the previous text index, index only the new nodes.
            self._text = list(previous._text)
            # (nodes the previous index had still to add count as new here too)
            carried = previous.view.ids[previous._pending]
            known = np.isin(view.ids, previous.view.ids, assume_unique=True)
            known &= ~np.isin(view.ids, carried, assume_unique=True)
            self._pending = np.flatnonzero(~known).astype(np.int64)
        self._link_order = np.argsort(view.src, kind="stable")
        self._link_src = view.src[self._link_order]
        self._kind_weight = np.array([settings.weights.get(k, 0.0) for k in LINK_KINDS])

    @staticmethod
    def _changes(view: GraphView, settings: ExpertiseSettings) -> sp.csr_matrix:
        """The commit - file links, both ways, each commit's spread over its files."""
        changed = view.link_kind == LINK_KINDS.index("changed")
        src, dst = view.src[changed], view.dst[changed]
        files_per_item = np.bincount(src, minlength=view.n_nodes).astype(np.float64)
        weight = view.weight[changed] * settings.weights.get("changed", 0.0)
        weight = weight / np.maximum(files_per_item[src], 1.0) ** settings.commit_spread
        n = view.n_nodes
        return sp.csr_matrix(
            (np.r_[weight, weight], (np.r_[src, dst], np.r_[dst, src])), shape=(n, n)
        )

    @classmethod
    def of(cls, view: GraphView, settings: ExpertiseSettings) -> ExpertiseIndex:
        """The index of ``view`` for ``settings``, built once per view; for a view extended
        from a previous one (:func:`~knotwork.graph.view.cached_view` after new links), the
        previous index's text index is reused and only the new nodes' texts are indexed (also
        across views no one asked in between: the last index of the same lineage is kept)."""
        key = ("expertise", json.dumps(asdict(settings), sort_keys=True))
        previous = view.previous[1].get(key) if view.previous is not None else None
        if not isinstance(previous, ExpertiseIndex):  # a view in between was never asked
            previous = _LATEST.get(key)
            if previous is not None and lineage(previous.view) != lineage(view):
                previous = None
        index: ExpertiseIndex = view.memo(key, lambda: cls(view, settings, previous))
        _LATEST[key] = index
        return index

    # -- seeds ------------------------------------------------------------------------------

    def match_path(self, term: str) -> IntArray:
        """Positions (in the view) of the files a path, prefix or glob term matches."""
        term = term.strip().lstrip("/")
        term = term[2:] if term.startswith("./") else term
        if not term:
            return np.zeros(0, dtype=np.int64)
        glob = _GLOB.search(term)
        prefix = term[: glob.start()] if glob else term
        if not glob and not term.endswith("/"):
            exact = self._range(term, term + "\x00")
            below = self._range(term + "/", term + "/\U0010ffff")
            return self.file_positions[np.r_[exact, below]]
        found = self._range(prefix, prefix + "\U0010ffff")
        if glob:
            pattern = re.compile(_glob_regex(term.rstrip("/")) + r"(?:/.*)?")
            found = np.array([i for i in found if pattern.fullmatch(self.paths[i])], dtype=np.int64)
        return self.file_positions[found]

    def _range(self, low: str, high: str) -> IntArray:
        start = int(np.searchsorted(self.paths, low, side="left"))
        stop = int(np.searchsorted(self.paths, high, side="left"))
        return np.arange(start, stop, dtype=np.int64)

    def text_index(self, store: Store) -> list[TextIndex]:
        """The BM25 index of the store's texts and paths (built on first use), as parts: the
        index of the view it was built for, then small indexes of the nodes added since.

        One thread at a time indexes new texts; meanwhile the others answer from the parts
        already built (they wait only for the very first build). When the small parts outgrow
        the first one, the index is rebuilt in full; when there are :data:`TEXT_PARTS` of
        them, they are merged into one."""
        if self._text is not None and not self._pending.size:
            return self._text
        if not self._text_lock.acquire(blocking=self._text is None):
            assert self._text is not None
            return self._text  # another thread indexes the new texts: answer without them
        try:
            parts, pending = self._text, self._pending
            if parts is not None and pending.size:
                first = max(len(parts[0].nodes), TEXT_REBUILD_NODES)
                small = sum(len(part.nodes) for part in parts[1:]) + pending.size
                if small > first:
                    parts = None
                elif len(parts) >= TEXT_PARTS:  # merge the small parts, keep the first
                    nodes = np.concatenate([part.nodes for part in parts[1:]])
                    ids = self.view.ids
                    known = np.searchsorted(ids, nodes).clip(0, self.view.n_nodes - 1)
                    positions = np.union1d(known[ids[known] == nodes], pending)
                    parts = [parts[0], self._new_texts(store, positions)]
                else:
                    parts = [*parts, self._new_texts(store, pending)]
            self._text = parts if parts is not None else [TextIndex.build(store)]
            self._pending = np.zeros(0, dtype=np.int64)
            return self._text
        finally:
            self._text_lock.release()

    def _new_texts(self, store: Store, positions: IntArray) -> TextIndex:
        """A text index of the nodes at ``positions`` (their texts, and paths of files)."""
        view = self.view
        wanted = [int(view.ids[p]) for p in positions.tolist()]
        files = positions[view.kind[positions] == NODE_KINDS.index(NodeKind.FILE.value)]
        paths = [(int(view.ids[p]), view.keys[p]) for p in files.tolist()]
        return TextIndex.of_nodes(store, wanted, paths)

    def text_scores(self, store: Store, text: str) -> tuple[IntArray, FloatArray]:
        """(node ids, BM25 scores) of every indexed document for ``text``, all parts."""
        parts = self.text_index(store)
        nodes = np.concatenate([part.nodes for part in parts])
        scores = np.concatenate([part.scores(text) for part in parts])
        return nodes, scores

    def seeds(self, store: Store | None, query: str) -> tuple[FloatArray, list[dict[str, Any]]]:
        """The personalization vector of ``query`` and what each term matched."""
        view, settings = self.view, self.settings
        vector = np.zeros(view.n_nodes)
        terms: list[dict[str, Any]] = []
        words: list[str] = []
        n_files = max(len(self.paths), 1)
        path_mass = 0.0
        for term in query.split():
            if "/" in term or _GLOB.search(term) or self._range(term, term + "\x00").size:
                files = self.match_path(term)
                terms.append({"term": term, "kind": "path", "matched": int(files.size)})
                if files.size:
                    weight = math.log1p(n_files / files.size) ** settings.path_specificity
                    activity = self.file_commits[files] ** settings.file_activity
                    np.add.at(vector, files, weight * activity / activity.sum())
                    path_mass += weight
            else:
                words.append(term)
        if words and store is not None:
            text = " ".join(words)
            nodes, scores = self.text_scores(store, text)
            matched = np.flatnonzero(scores > 0)
            top = matched[np.argsort(-scores[matched], kind="stable")][: settings.text_seeds]
            positions = np.searchsorted(view.ids, nodes[top])
            inside = positions < view.n_nodes
            inside[inside] &= view.ids[positions[inside]] == nodes[top][inside]
            positions, weights = positions[inside], scores[top][inside]
            live = self.degree[positions] > 0
            positions, weights = positions[live], weights[live]
            terms.append({"term": text, "kind": "text", "matched": int(positions.size)})
            if positions.size:
                share = settings.text_share / (1 - settings.text_share) if path_mass else 1.0
                mass = (path_mass or 1.0) * share
                np.add.at(vector, positions, mass * weights / weights.sum())
        return vector, terms

    # -- ranking ----------------------------------------------------------------------------

    def rank(self, vector: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(the walk's mass per node, the expertise score per node: zero for non-people)."""
        view, settings = self.view, self.settings
        if vector.sum() <= 0:
            return np.zeros(view.n_nodes), np.zeros(view.n_nodes)
        if self.fast is not None:
            mass = self.fast.pagerank(
                damping=settings.damping,
                personalization=vector,
                tol=settings.tol,
                max_iter=settings.max_iter,
            ).vector
        else:
            assert self.walk is not None
            mass = self.walk.rank(
                damping=settings.damping,
                personalization=vector,
                tol=settings.tol,
                max_iter=settings.max_iter,
            ).vector
        score = np.zeros(view.n_nodes)
        people = self.people
        score[people] = mass[people] / self.degree[people] ** settings.specificity
        gap = view.as_of - view.last_active[people]
        late = np.maximum(gap - settings.inactive_after_days * DAY, 0)
        score[people] *= np.exp2(-late / (view.half_life_days * DAY))
        return mass, score

    def _flows(self, mass: FloatArray, person: int) -> tuple[IntArray, IntArray, FloatArray]:
        """(links, items, flows): the mass each of ``person``'s links brought them."""
        view = self.view
        bounds = np.array([person, person + 1], dtype=self._link_src.dtype)  # no cast of all
        start, stop = self._link_src.searchsorted(bounds)
        links = self._link_order[start:stop].astype(np.int64)
        items = view.dst[links].astype(np.int64)
        flows: FloatArray = (
            mass[items]
            / np.maximum(self.degree[items], 1e-300)
            * view.weight[links]
            * self._kind_weight[view.link_kind[links]]
        )
        return links, items, flows

    def evidence(
        self, mass: FloatArray, person: int, seeds: FloatArray, limit: int
    ) -> list[tuple[int, float, list[str], list[int]]]:
        """(item position, share of the person's mass, link kinds, seed files) best first."""
        links, items, flows = self._flows(mass, person)
        total = float(flows.sum()) or 1.0
        distinct, inverse = np.unique(items, return_inverse=True)  # a person's few items
        per_item = np.bincount(inverse, weights=flows, minlength=len(distinct)).astype(
            np.float64, copy=False
        )
        best = top(np.arange(len(distinct)), per_item, limit)
        result = []
        for position in best.tolist():
            if per_item[position] <= 0:
                break
            item = int(distinct[position])
            kinds = sorted({LINK_KINDS[k] for k in self.view.link_kind[links[items == item]]})
            row = self.adjacency.indices[
                self.adjacency.indptr[item] : self.adjacency.indptr[item + 1]
            ]
            files = [int(f) for f in row[seeds[row] > 0] if f != item][:3]
            result.append((item, float(per_item[position]) / total, kinds, files))
        return result

    def link_shares(self, mass: FloatArray, person: int) -> dict[str, float]:
        """The share of ``person``'s mass that came through each kind of link."""
        links, _, flows = self._flows(mass, person)
        kinds = self.view.link_kind[links]
        total = float(flows.sum()) or 1.0
        shares = np.bincount(kinds, weights=flows, minlength=len(LINK_KINDS)) / total
        return {LINK_KINDS[k]: float(s) for k, s in enumerate(shares) if s > 0}


def _glob_regex(pattern: str) -> str:
    """A regular expression for a shell glob where ``*`` and ``?`` stay within one folder.

    >>> _glob_regex("lib/eal/*.h")
    'lib/eal/[^/]*\\\\.h'
    """
    parts = []
    for char in pattern:
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def _index(
    store: Store,
    as_of: int | None,
    half_life_days: float,
    settings: ExpertiseSettings | None,
) -> ExpertiseIndex:
    view = cached_view(store, as_of=as_of, half_life_days=half_life_days)
    return ExpertiseIndex.of(view, settings or DEFAULT_SETTINGS)


DEFAULT_SETTINGS = ExpertiseSettings()


def _evidence(
    store: Store,
    index: ExpertiseIndex,
    raw: list[tuple[int, float, list[str], list[int]]],
    info: dict[int, dict[str, Any]] | None = None,
) -> list[Evidence]:
    view = index.view
    if info is None:
        info = describe(store, [int(view.ids[i]) for i, *_ in raw])
    result = []
    for item, share, kinds, files in raw:
        node = info.get(int(view.ids[item]), {})
        result.append(
            Evidence(
                id=int(view.ids[item]),
                kind=str(node.get("kind", "")),
                key=str(node.get("key", view.keys[item])),
                name=str(node.get("name", "")),
                time=node.get("time"),
                share=round(share, 4),
                links=kinds,
                files=[view.keys[f] for f in files],
            )
        )
    return result


def who_knows(
    store: Store,
    query: str,
    *,
    limit: int = 10,
    as_of: int | None = None,
    half_life_days: float = EXPERTISE_HALF_LIFE_DAYS,
    evidence: int = 3,
    settings: ExpertiseSettings | None = None,
) -> Answer:
    """Who knows about ``query`` (see the module docstring), best first, with evidence."""
    if not query.strip():
        raise InputError("the query is empty", place="query")
    index = _index(store, as_of, half_life_days, settings)
    seeds, terms = index.seeds(store, query)
    mass, score = index.rank(seeds)
    candidates = index.people[score[index.people] > 0]
    order = top(candidates, score[candidates], limit)
    raws = {p: index.evidence(mass, p, seeds, evidence) if evidence else [] for p in order.tolist()}
    wanted = order.tolist() + [item for raw in raws.values() for item, *_ in raw]
    info = describe(store, [int(index.view.ids[i]) for i in wanted])
    experts = []
    for rank, position in enumerate(order.tolist(), start=1):
        node = info.get(int(index.view.ids[position]), {})
        last = int(index.view.last_active[position])
        raw = raws[position]
        experts.append(
            Expert(
                rank=rank,
                id=int(index.view.ids[position]),
                key=str(node.get("key", index.view.keys[position])),
                name=str(node.get("name", "")),
                score=float(score[position]),
                last_active=None if last < 0 else last,
                inactive=last < 0
                or index.view.as_of - last > index.settings.inactive_after_days * DAY,
                evidence=_evidence(store, index, raw, info),
            )
        )
    return Answer(query=query, as_of=index.view.as_of, terms=terms, experts=experts)


def explain(
    store: Store,
    person: str,
    query: str,
    *,
    as_of: int | None = None,
    half_life_days: float = EXPERTISE_HALF_LIFE_DAYS,
    evidence: int = 10,
    settings: ExpertiseSettings | None = None,
) -> dict[str, Any]:
    """Why ``person`` (an alias) ranks where they do for ``query``: rank, score, the share
    of their mass by kind of link, and the items that brought it.

    >>> from knotwork.graph.sample import sample_store
    >>> why = explain(sample_store(), "ada@example.org", "drivers/net/ice/")
    >>> why["rank"], sorted(why["links"]), why["evidence"][0]["links"]
    (2, ['acks', 'authored'], ['authored'])
    """
    person_id = resolve(store, person)
    index = _index(store, as_of, half_life_days, settings)
    try:
        position = index.view.index_of(person_id)
    except KeyError:
        raise NotFoundError("this person is not in the graph", place=person) from None
    if not index.view.people(bots=True)[position]:
        raise NotFoundError("this person opted out of every result", place=person)
    seeds, terms = index.seeds(store, query)
    mass, score = index.rank(seeds)
    rank = int((score > score[position]).sum()) + 1 if score[position] > 0 else None
    raw = index.evidence(mass, position, seeds, evidence)
    node = describe(store, [person_id]).get(person_id, {})
    last = int(index.view.last_active[position])
    return {
        "query": query,
        "as_of": index.view.as_of,
        "terms": terms,
        "id": person_id,
        "key": node.get("key"),
        "name": node.get("name"),
        "rank": rank,
        "of": int((score > 0).sum()),
        "score": float(score[position]),
        "mass": float(mass[position]),
        "degree": float(index.degree[position]),
        "last_active": None if last < 0 else last,
        "links": {k: round(v, 4) for k, v in index.link_shares(mass, position).items()},
        "evidence": [asdict(e) for e in _evidence(store, index, raw)],
    }


def with_changes(settings: ExpertiseSettings, **changes: Any) -> ExpertiseSettings:
    """A copy of ``settings`` with ``changes`` (for tuning)."""
    return replace(settings, **changes)


__all__ = [
    "DEFAULT_SETTINGS",
    "EXPERTISE_HALF_LIFE_DAYS",
    "FAST_NODES",
    "Answer",
    "Evidence",
    "Expert",
    "ExpertiseIndex",
    "ExpertiseSettings",
    "explain",
    "who_knows",
    "with_changes",
]
