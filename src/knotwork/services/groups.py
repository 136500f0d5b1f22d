"""Groups: the groups that really exist, found in who works with whom, and how they change.

**Projection.** Two people are tied by the items they both took part in (authoring, reviewing,
acking, ... an item; being addressed by a message through ``mentions``), plus direct links
between people (not ``member_of`` / ``reports_to``: that is the formal organisation) and between
the authors of a reply and of the item it answers. An item
with ``p`` participants adds ``w_a * w_b / (p - 1)`` to each pair (the hyperbolic projection,
Newman 2001), so that a thread of fifty people does not weigh like fifty conversations, and
items with more than ``max_participants`` participants (announcements, vendored files) are left
out: they would make the projection dense and say little about groups. Weights are the view's
decayed weights, so old work counts less.

**Groups.** Leiden (:func:`knotwork.graph.communities.leiden`) on that projection; each group is
labelled by its most distinctive words (from its items' names) and paths (directories of the files
its commits changed), by tf-idf against the other groups; its **cohesion** is the share of its
members' tie weight that stays inside it. Groups of fewer than ``k_min`` people are suppressed
(counted, never listed) unless the caller is an admin.

**History** (:func:`knotwork.services.groups_history.history`): groups are found at every
``every_days`` and matched between consecutive slices by Jaccard similarity of their members;
a group with no match *formed*, one with several predecessors *merged*, one with several
successors *split*, one without successor *dissolved*, and a one-to-one match *grew* or
*shrank* when its size changed by more than 10 %.

>>> from knotwork.graph.sample import sample_store
>>> result = groups(sample_store(), k_min=3)
>>> [(g.size, g.suppressed, g.members) for g in result.groups]
[(2, True, None)]
>>> groups(sample_store(), k_min=3, admin=True).groups[0].paths
['drivers/net/ice/', 'lib/eal/']
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sqlalchemy import text

from knotwork.graph.communities import leiden
from knotwork.graph.view import LINK_KINDS, PARTICIPATION, GraphView, cached_view
from knotwork.model import LinkKind, NodeKind
from knotwork.services.privacy import DEFAULT_K_MIN, Ledger, check_k_min
from knotwork.store.engine import Store
from knotwork.store.text import tokenize

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Links from an item to a person that make the person take part in the item (addressees).
ADDRESSED: tuple[str, ...] = (LinkKind.MENTIONS.value,)
#: Links between people that are the formal organisation, not work.
FORMAL: tuple[str, ...] = (LinkKind.MEMBER_OF.value, LinkKind.REPORTS_TO.value)
#: Default cap on an item's participants for it to count in the projection.
MAX_PARTICIPANTS = 100


@dataclass
class Projection:
    """People of a view (``positions``, ``ids``) and their symmetric tie weights
    (``adjacency``), with the people x items ``incidence`` it was made from."""

    positions: IntArray
    ids: IntArray
    adjacency: sp.csr_matrix
    incidence: sp.csr_matrix
    dropped_items: int = 0


def _codes(kinds: tuple[str, ...]) -> npt.NDArray[np.int8]:
    return np.array([LINK_KINDS.index(k) for k in kinds], dtype=np.int8)


def projection(
    view: GraphView, *, max_participants: int = MAX_PARTICIPANTS, top_k: int | None = None
) -> Projection:
    """The person-person projection of ``view`` (see the module docstring); bots left out.

    ``top_k`` keeps only each person's ``top_k`` strongest ties (a tie stays when either end
    keeps it).

    >>> from knotwork.graph.sample import sample_store
    >>> p = projection(GraphView.build(sample_store()))
    >>> len(p.ids), p.adjacency.nnz
    (2, 2)
    """
    people = view.people()
    row_of = np.full(view.n_nodes, -1, dtype=np.int64)
    positions = np.flatnonzero(people)
    row_of[positions] = np.arange(len(positions))
    src, dst, kind, weight = view.src, view.dst, view.link_kind, view.weight.astype(np.float64)
    takes = np.isin(kind, _codes(PARTICIPATION)) & people[src] & ~view.mask(NodeKind.PERSON)[dst]
    addressed = np.isin(kind, _codes(ADDRESSED)) & people[dst] & ~view.mask(NodeKind.PERSON)[src]
    person_rows = np.r_[row_of[src[takes]], row_of[dst[addressed]]]
    item_cols = np.r_[dst[takes], src[addressed]]
    n_people, n = len(positions), view.n_nodes
    incidence = sp.csr_matrix(
        (np.r_[weight[takes], weight[addressed]], (person_rows, item_cols)), shape=(n_people, n)
    )
    incidence.sum_duplicates()
    participants = np.diff(incidence.tocsc().indptr)
    useful = (participants >= 2) & (participants <= max_participants)
    scale = np.where(useful, 1.0 / np.maximum(participants - 1, 1), 0.0)
    adjacency = (incidence @ sp.diags(scale) @ incidence.T).tocsr()
    direct = people[src] & people[dst] & ~np.isin(kind, _codes(FORMAL)) & (src != dst)
    a, b = row_of[src[direct]], row_of[dst[direct]]
    adjacency = adjacency + sp.csr_matrix(
        (np.r_[weight[direct], weight[direct]], (np.r_[a, b], np.r_[b, a])),
        shape=(n_people, n_people),
    )
    replies = (kind == LINK_KINDS.index("replies")) & ~people[src] & ~people[dst]
    if replies.any():  # the authors of a reply and of what it answers talked to each other
        authored = takes & (kind == LINK_KINDS.index("authored"))
        author = sp.csr_matrix(
            (np.ones(int(authored.sum())), (row_of[src[authored]], dst[authored])),
            shape=(n_people, n),
        )
        answer = sp.csr_matrix((weight[replies], (src[replies], dst[replies])), shape=(n, n))
        talk = (author @ answer @ author.T).tocsr()
        adjacency = adjacency + talk + talk.T
    adjacency = sp.csr_matrix(adjacency)
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    if top_k is not None:
        adjacency = _top_k(sp.csr_matrix(adjacency), top_k)
    return Projection(
        positions=positions,
        ids=view.ids[positions],
        adjacency=sp.csr_matrix(adjacency),
        incidence=incidence,
        dropped_items=int((participants > max_participants).sum()),
    )


@numba.njit(cache=True)
def _top_k_mask(
    indptr: npt.NDArray[np.int32], data: FloatArray, k: int
) -> npt.NDArray[np.bool_]:  # pragma: no cover - compiled
    """Which entries of a CSR matrix are among their row's ``k`` largest."""
    keep = np.zeros(len(data), dtype=np.bool_)
    for row in range(len(indptr) - 1):
        start, stop = indptr[row], indptr[row + 1]
        if stop - start <= k:
            keep[start:stop] = True
        else:
            best = np.argsort(-data[start:stop], kind="mergesort")[:k]
            keep[start + best] = True
    return keep


def _top_k(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Each row's ``k`` largest entries, symmetrised by the maximum."""
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    keep = _top_k_mask(matrix.indptr, matrix.data.astype(np.float64), k)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    kept = sp.csr_matrix(
        (matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape
    )
    return sp.csr_matrix(kept.maximum(kept.T))


@dataclass
class Group:
    """One emergent group: ``members`` are person node ids (``None`` when suppressed)."""

    id: int
    size: int
    members: list[int] | None
    terms: list[str]
    paths: list[str]
    cohesion: float
    suppressed: bool = False


@dataclass
class GroupsResult:
    """The groups of a store at ``as_of``; ``membership`` maps each grouped person's id to
    its group id (for other services: it includes people of suppressed groups, and is left
    out of :meth:`to_dict` for them unless ``admin``)."""

    as_of: int
    resolution: float
    modularity: float
    k_min: int
    admin: bool
    groups: list[Group]
    membership: dict[int, int]
    people: int
    isolated: int
    suppressed: int
    settings: dict[str, Any] = field(default_factory=dict)
    #: Why ``people`` and ``isolated`` are withheld ("" when shown): a :class:`Ledger` found
    #: that they would differ from an earlier answer by fewer than ``k_min`` people.
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, without the members of suppressed groups."""
        shown = {g.id for g in self.groups if not g.suppressed}
        data = asdict(self)
        data["membership"] = {
            str(p): g for p, g in self.membership.items() if self.admin or g in shown
        }
        if self.note:
            data["people"] = data["isolated"] = None
        data["note"] = self.note or None
        return data


def _cohesion(adjacency: sp.csr_matrix, labels: npt.NDArray[np.int32], k: int) -> FloatArray:
    coo = adjacency.tocoo()
    same = labels[coo.row] == labels[coo.col]
    inside = np.bincount(labels[coo.row], weights=coo.data * same, minlength=k)
    total = np.bincount(labels[coo.row], weights=coo.data, minlength=k)
    return np.divide(inside, total, out=np.zeros(k), where=total > 0)


def _tfidf(weights: list[defaultdict[str, float]], limit: int) -> list[list[str]]:
    """Each group's ``limit`` most distinctive keys: share in the group times the log of how
    much more often the key occurs in the group than in all groups (tf-idf against the whole);
    keys as common everywhere score 0, and a lone group keeps its most frequent keys."""
    overall: defaultdict[str, float] = defaultdict(float)
    for counts in weights:
        for key, weight in counts.items():
            overall[key] += weight
    grand = sum(overall.values()) or 1.0
    labels = []
    for counts in weights:
        total = sum(counts.values()) or 1.0
        score = {
            t: (w / total) * math.log((w / total) / (overall[t] / grand)) for t, w in counts.items()
        }
        if len(weights) == 1:
            score = {t: w / total for t, w in counts.items()}
        ranked = sorted((t for t in score if score[t] > 1e-12), key=lambda t: (-score[t], t))
        labels.append(ranked[:limit])
    return labels


def _names(store: Store, ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    with store.connect() as connection:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join(str(int(i)) for i in chunk)
            for node, name in connection.execute(
                text(f"SELECT id, name FROM nodes WHERE id IN ({marks})")
            ):
                names[int(node)] = str(name or "")
    return names


def _labels(
    store: Store | None, view: GraphView, proj: Projection, labels: npt.NDArray[np.int32], k: int
) -> tuple[list[list[str]], list[list[str]]]:
    """Distinctive words and paths of each of the ``k`` groups."""
    grouping = sp.csr_matrix(
        (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels))
    )
    items = (grouping @ proj.incidence).tocsr()  # groups x nodes
    changed = view.link_kind == LINK_KINDS.index("changed")
    n = view.n_nodes
    to_file = sp.csr_matrix(
        (np.ones(int(changed.sum())), (view.src[changed], view.dst[changed])), (n, n)
    )
    files = (items @ to_file + items.multiply(view.mask(NodeKind.FILE)[None, :])).tocsr()
    path_counts: list[defaultdict[str, float]] = []
    for g in range(k):
        row = files.getrow(g)
        counts: defaultdict[str, float] = defaultdict(float)
        top = np.argsort(-row.data, kind="stable")[:2000]  # a group's main files are enough
        for col, weight in zip(row.indices[top].tolist(), row.data[top].tolist(), strict=True):
            key = view.keys[col]
            folder = key.rsplit("/", 1)[0] + "/" if "/" in key else key
            counts[folder] += weight
        path_counts.append(counts)
    word_counts: list[defaultdict[str, float]] = [defaultdict(float) for _ in range(k)]
    if store is not None:
        top_items: list[tuple[int, int, float]] = []
        for g in range(k):
            row = items.getrow(g)
            order = np.argsort(-row.data, kind="stable")[:300]
            top_items += [(g, int(row.indices[i]), float(row.data[i])) for i in order]
        names = _names(store, sorted({int(view.ids[c]) for _, c, _ in top_items}))
        for g, col, weight in top_items:
            for word in set(tokenize(names.get(int(view.ids[col]), ""))):
                if len(word) > 2 and not word.isdigit():
                    word_counts[g][word] += weight
    return _tfidf(word_counts, 8), _tfidf(path_counts, 5)


def find_groups(
    view: GraphView,
    *,
    store: Store | None = None,
    resolution: float = 1.0,
    seed: int = 0,
    k_min: int = DEFAULT_K_MIN,
    admin: bool = False,
    max_participants: int = MAX_PARTICIPANTS,
    top_k: int | None = None,
    label: bool = True,
    ledger: Ledger | None = None,
) -> GroupsResult:
    """:func:`groups` on a view (``store`` only to read item names for the word labels).

    With a ``ledger`` (and not ``admin``), a group is also suppressed when its members would
    differ from a group released earlier by fewer than ``k_min`` people, and so are the
    counts of people and isolated people when the people of the view would."""
    k_min = check_k_min(k_min)
    proj = projection(view, max_participants=max_participants, top_k=top_k)
    tied = np.flatnonzero(np.diff(proj.adjacency.indptr) > 0)
    sub = proj.adjacency[tied][:, tied].tocsr()
    labels, quality = leiden(sub, resolution=resolution, seed=seed)
    k = int(labels.max()) + 1 if len(labels) else 0
    sizes = np.bincount(labels, minlength=k)
    order = np.argsort(-sizes, kind="stable")  # group ids by decreasing size
    rename = np.empty(k, dtype=np.int32)
    rename[order] = np.arange(k, dtype=np.int32)
    labels = rename[labels]
    sizes = sizes[order]
    cohesion = _cohesion(sub, labels, k)
    inner = Projection(proj.positions[tied], proj.ids[tied], sub, proj.incidence[tied])
    terms, paths = _labels(store, view, inner, labels, k) if label else ([[]] * k, [[]] * k)
    ids = proj.ids[tied]
    members = [sorted(ids[labels == g].tolist()) for g in range(k)]
    guard = ledger if ledger is not None and not admin else None
    held = guard.lock if guard is not None else contextlib.nullcontext()
    with held:
        released = [
            guard is None or guard.release(members[g], g).value is not None for g in range(k)
        ]
        why = guard.release(proj.ids.tolist(), None).note if guard is not None else ""
    found = []
    for g in range(k):
        hidden = (bool(sizes[g] < k_min) or not released[g]) and not admin
        found.append(
            Group(
                id=g,
                size=int(sizes[g]),
                members=None if hidden else members[g],
                terms=[] if hidden else terms[g],
                paths=[] if hidden else paths[g],
                cohesion=round(float(cohesion[g]), 4),
                suppressed=hidden,
            )
        )
    return GroupsResult(
        as_of=view.as_of,
        resolution=resolution,
        modularity=round(quality, 6),
        k_min=k_min,
        admin=admin,
        groups=found,
        membership={int(p): int(g) for p, g in zip(ids.tolist(), labels.tolist(), strict=True)},
        people=len(proj.ids),
        isolated=len(proj.ids) - len(tied),
        suppressed=sum(g.suppressed for g in found),
        settings={"max_participants": max_participants, "top_k": top_k, "seed": seed},
        note=why,
    )


def groups(
    store: Store,
    *,
    as_of: int | None = None,
    resolution: float = 1.0,
    seed: int = 0,
    k_min: int = DEFAULT_K_MIN,
    admin: bool = False,
    half_life_days: float = 365.0,
    max_participants: int = MAX_PARTICIPANTS,
    top_k: int | None = None,
    ledger: Ledger | None = None,
) -> GroupsResult:
    """The emergent groups of ``store`` at ``as_of`` (see the module docstring).

    Higher ``resolution`` gives more, smaller groups. ``admin`` lists groups smaller than
    ``k_min`` too. ``ledger``: the groups released earlier (see :func:`find_groups`).
    """
    view = cached_view(store, as_of=as_of, half_life_days=half_life_days)
    return find_groups(
        view,
        store=store,
        resolution=resolution,
        seed=seed,
        k_min=k_min,
        admin=admin,
        max_participants=max_participants,
        top_k=top_k,
        ledger=ledger,
    )


__all__ = [
    "Group",
    "GroupsResult",
    "Projection",
    "find_groups",
    "groups",
    "projection",
]
