"""Synthetic work graphs: seeded, realistic-looking stores of any size, as numpy arrays.

Shape: people in groups (teams), with a heavy-tailed (lognormal) activity, so that a few
people make most links; items of several kinds (commits, files, messages, issues), each owned
by a group, made over ten years with growth (more activity in later years); people mostly work
on their own group's items. Link kinds: people ``authored``/``reviews`` commits, ``authored``
messages, ``reports`` issues, are ``member_of`` their group; commits ``changed`` files,
messages ``replies`` to messages, issues ``cites`` commits. Everything follows from the seed.

Node ids follow the store's convention (:meth:`knotwork.model.Node.node_id` of the kind and a
key ``syn:<kind>:<n>``), so a synthetic graph written to a store (:mod:`knotwork.store.bulk`)
has the ids a source would give it.

>>> graph = generate(10_000, seed=1)
>>> graph.n_links, int(graph.node_id.size) > 500
(10000, True)
>>> bool((generate(10_000, seed=1).dst == graph.dst).all())
True
>>> view = graph.to_view()
>>> view.n_links
10000
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knotwork.graph.view import (
    DEFAULT_HALF_LIFE_DAYS,
    LINK_KINDS,
    NODE_KINDS,
    GraphView,
    LinkArrays,
    NodeArrays,
)
from knotwork.model import Link, LinkKind, Node, NodeKind, Record

#: Start of the synthetic history (2015-01-01 UTC) and its length (ten years).
START = 1_420_070_400
SPAN = 10 * 365 * 86_400
#: Item kinds and their share of the items.
ITEM_SHARES = {
    NodeKind.COMMIT: 0.4,
    NodeKind.FILE: 0.15,
    NodeKind.MESSAGE: 0.3,
    NodeKind.ISSUE: 0.15,
}

IntArray = npt.NDArray[np.int64]


@dataclass
class SyntheticGraph:
    """Nodes and links of a synthetic work graph. ``node_kind`` and ``link_kind`` are codes
    into :data:`knotwork.graph.view.NODE_KINDS` / :data:`~knotwork.graph.view.LINK_KINDS`;
    ``src``/``dst`` are node ids; ``time`` Unix seconds; links are in time order."""

    node_id: IntArray
    node_kind: npt.NDArray[np.int16]
    node_key: list[str]
    src: IntArray
    dst: IntArray
    link_kind: npt.NDArray[np.int8]
    time: IntArray
    weight: npt.NDArray[np.float32]
    seed: int
    #: Position of the first link in the whole graph (for parts of a graph, see ``part``).
    offset: int = 0

    @property
    def n_links(self) -> int:
        """How many links."""
        return len(self.src)

    def link_ids(self) -> IntArray:
        """Stable positive 63-bit ids of the links (a mix of the seed and the position)."""
        x = np.arange(self.offset, self.offset + self.n_links, dtype=np.uint64)
        x += np.uint64(self.seed) * np.uint64(1 << 40)
        with np.errstate(over="ignore"):
            x = x + np.uint64(0x9E3779B97F4A7C15)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            x = x ^ (x >> np.uint64(31))
        return (x >> np.uint64(1)).astype(np.int64) | np.int64(1)

    def part(self, lo: int, hi: int) -> SyntheticGraph:
        """Links ``lo:hi`` (in time order) with the nodes they name: loading the parts of a
        graph one after another gives the store that loading it whole gives.

        >>> g = generate(10_000)
        >>> g.part(0, 100).n_links, int(g.part(100, 200).link_ids()[0]) == int(g.link_ids()[100])
        (100, True)
        """
        used = np.isin(self.node_id, np.concatenate([self.src[lo:hi], self.dst[lo:hi]]))
        return SyntheticGraph(
            node_id=self.node_id[used],
            node_kind=self.node_kind[used],
            node_key=[k for k, u in zip(self.node_key, used.tolist(), strict=True) if u],
            src=self.src[lo:hi],
            dst=self.dst[lo:hi],
            link_kind=self.link_kind[lo:hi],
            time=self.time[lo:hi],
            weight=self.weight[lo:hi],
            seed=self.seed,
            offset=self.offset + lo,
        )

    def to_view(
        self, as_of: int | None = None, half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    ) -> GraphView:
        """The view a store holding this graph would give, built without a store.

        >>> g = generate(10_000)
        >>> v = g.to_view(as_of=START + SPAN // 2)
        >>> 0 < v.n_links < 10_000
        True
        """
        flags = np.zeros(len(self.node_id), dtype=np.int64)
        nodes = NodeArrays(self.node_id, self.node_kind, flags, self.node_key)
        links = LinkArrays(
            self.src,
            self.dst,
            self.link_kind,
            self.time,
            self.weight,
            np.zeros(self.n_links, dtype=np.int64),
        )
        return GraphView.from_arrays(nodes, links, as_of=as_of, half_life_days=half_life_days)

    def records(self, source: str = "synthetic") -> Iterator[Record]:
        """One :class:`~knotwork.model.Record` per link (with its two nodes), for small sizes.

        >>> record = next(generate(10_000).records())
        >>> len(record.nodes), record.links[0].src == record.nodes[0].id
        (2, True)
        """
        ids = self.link_ids().tolist()
        for i, (s, d) in enumerate(zip(self.src.tolist(), self.dst.tolist(), strict=True)):
            ends = [self._node(int(np.searchsorted(self.node_id, n))) for n in (s, d)]
            kind = LinkKind(LINK_KINDS[int(self.link_kind[i])])
            link = Link(ids[i], s, d, kind, int(self.time[i]), float(self.weight[i]))
            yield Record(source, ids[i], f"synthetic#{i}", nodes=ends, links=[link])

    def _node(self, position: int) -> Node:
        kind = NodeKind(NODE_KINDS[int(self.node_kind[position])])
        return Node(int(self.node_id[position]), kind, self.node_key[position])


def _grown_times(rng: np.random.Generator, size: int, growth: float = 1.5) -> IntArray:
    """Times over :data:`SPAN` with density growing like ``exp(growth * t / SPAN)``."""
    u = rng.random(size)
    x = np.log1p(u * np.expm1(growth)) / growth
    times: IntArray = (START + x * SPAN).astype(np.int64)
    return times


def generate(n_links: int, *, seed: int = 0, people: int | None = None) -> SyntheticGraph:
    """A synthetic work graph of exactly ``n_links`` links (about ``n_links / 10`` nodes).

    ``people`` defaults to ``n_links / 200`` (at least 20); groups hold about 25 people each.

    >>> g = generate(20_000, seed=3, people=50)
    >>> int((g.node_kind == NODE_KINDS.index("person")).sum())
    50
    """
    rng = np.random.default_rng(seed)
    n_people = people if people is not None else max(20, n_links // 200)
    n_groups = max(2, n_people // 25)
    n_items = max(40, n_links // 10 - n_people - n_groups)
    item_kinds = list(ITEM_SHARES)
    share = np.array(list(ITEM_SHARES.values()))
    counts = np.floor(share / share.sum() * n_items).astype(np.int64)
    counts[0] += n_items - int(counts.sum())

    # nodes: people, groups, then items by kind; items ordered by (kind, group)
    kinds = [NodeKind.PERSON] * n_people + [NodeKind.GROUP] * n_groups
    numbers = list(range(n_people)) + list(range(n_groups))
    for kind, count in zip(item_kinds, counts.tolist(), strict=True):
        kinds += [kind] * count
        numbers += list(range(count))
    keys = [f"syn:{k.value}:{n}" for k, n in zip(kinds, numbers, strict=True)]
    ids = np.array([Node.node_id(k, key) for k, key in zip(kinds, keys, strict=True)], np.int64)
    code = {k: NODE_KINDS.index(k.value) for k in set(kinds)}
    node_kind = np.array([code[k] for k in kinds], dtype=np.int16)

    person_group = rng.integers(0, n_groups, n_people)
    activity = rng.lognormal(0.0, 1.5, n_people)
    activity /= activity.sum()
    item_start = n_people + n_groups
    item_offsets = np.concatenate([[0], np.cumsum(counts)]) + item_start
    item_time = np.empty(len(kinds), dtype=np.int64)
    item_time[:item_start] = START
    item_group = np.zeros(len(kinds), dtype=np.int64)
    for k in range(len(item_kinds)):
        lo, hi = int(item_offsets[k]), int(item_offsets[k + 1])
        item_group[lo:hi] = np.sort(rng.integers(0, n_groups, hi - lo))
        item_time[lo:hi] = _grown_times(rng, hi - lo)

    def pick(kind: int, groups: IntArray) -> IntArray:
        """Items of item kind ``kind``: in ``groups`` (85%) else anywhere."""
        lo, hi = int(item_offsets[kind]), int(item_offsets[kind + 1])
        within = item_group[lo:hi]
        first = np.searchsorted(within, groups, "left")
        last = np.searchsorted(within, groups, "right")
        size = last - first
        local = first + (rng.random(len(groups)) * size).astype(np.int64)
        anywhere = rng.integers(0, hi - lo, len(groups))
        use_local = (size > 0) & (rng.random(len(groups)) < 0.85)
        return lo + np.where(use_local, local, anywhere)

    n_member = min(n_people, n_links)
    rest = n_links - n_member
    # link plan: person->commit, person->message, person->issue, commit->file,
    # message->message, issue->commit; shares of the remaining links
    plan = rng.choice(6, size=rest, p=[0.25, 0.2, 0.05, 0.3, 0.15, 0.05])
    src = np.empty(n_links, dtype=np.int64)
    dst = np.empty(n_links, dtype=np.int64)
    lkind = np.empty(n_links, dtype=np.int8)
    time = np.empty(n_links, dtype=np.int64)
    src[:n_member] = np.arange(n_member)
    dst[:n_member] = n_people + person_group[:n_member]
    lkind[:n_member] = LINK_KINDS.index("member_of")
    L = {k: LINK_KINDS.index(k) for k in LINK_KINDS}
    body = slice(n_member, n_links)
    s, d, kk = np.empty(rest, np.int64), np.empty(rest, np.int64), np.empty(rest, np.int8)
    who = rng.choice(n_people, size=rest, p=activity)
    for step, (item, kind_names) in enumerate(
        [(0, ("authored", "reviews")), (2, ("authored",)), (3, ("reports",))]
    ):
        chosen = plan == step
        s[chosen] = who[chosen]
        d[chosen] = pick(item, person_group[who[chosen]])
        choice = rng.random(int(chosen.sum())) < (0.75 if len(kind_names) > 1 else 1.0)
        kk[chosen] = np.where(choice, L[kind_names[0]], L[kind_names[-1]])
    for step, (a, b, name) in enumerate([(0, 1, "changed"), (2, 2, "replies"), (3, 0, "cites")]):
        chosen = plan == step + 3
        first = pick(a, person_group[who[chosen]])
        s[chosen] = first
        d[chosen] = pick(b, item_group[first])
        kk[chosen] = L[name]
    src[body], dst[body], lkind[body] = s, d, kk
    time[:n_member] = START + rng.integers(0, SPAN // 10, n_member)
    anchor = np.maximum(item_time[s], item_time[d])
    time[body] = np.minimum(
        anchor + rng.exponential(2 * 86_400, rest).astype(np.int64), START + SPAN
    )
    order = np.argsort(time, kind="stable")
    sorted_nodes = np.argsort(ids, kind="stable")
    rank = np.empty_like(sorted_nodes)
    rank[sorted_nodes] = np.arange(len(ids))
    return SyntheticGraph(
        node_id=ids[sorted_nodes],
        node_kind=node_kind[sorted_nodes],
        node_key=[keys[i] for i in sorted_nodes.tolist()],
        src=ids[src[order]],
        dst=ids[dst[order]],
        link_kind=lkind[order],
        time=time[order],
        weight=np.ones(n_links, dtype=np.float32),
        seed=seed,
    )


__all__ = ["SPAN", "START", "SyntheticGraph", "generate"]
