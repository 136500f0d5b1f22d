"""The pieces of the block PageRank solver: level waves, mass balance, extrapolation, orders."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from knotwork.graph import kernels
from knotwork.graph.ppr import FastWalk, node_order, scc_order

Dense = npt.NDArray[np.float64]


def reference(weights: Dense, damping: float = 0.85) -> Dense:
    """PageRank by a dense solve (dangling rows jump uniformly)."""
    n = weights.shape[0]
    out = weights.sum(axis=1)
    moves = np.where(out[:, None] > 0, weights / np.where(out > 0, out, 1.0)[:, None], 1.0 / n)
    return np.asarray(np.linalg.solve(np.eye(n) - damping * moves.T, np.full(n, (1 - damping) / n)))


def layered(sizes: list[int], links: int, seed: int) -> sp.csr_matrix:
    """An acyclic graph whose nodes come in layers, every link from one layer to a later one."""
    rng = np.random.default_rng(seed)
    layer = np.repeat(np.arange(len(sizes)), sizes)
    n = len(layer)
    src = rng.integers(0, n, links)
    dst = rng.integers(0, n, links)
    keep = layer[src] < layer[dst]
    # every node of a later layer gets one link from the layer just before it
    firsts = np.r_[0, np.cumsum(sizes)]
    chain_src = [rng.integers(firsts[k - 1], firsts[k]) for k in range(1, len(sizes))]
    extra_src = np.concatenate(
        [np.full(sizes[k], chain_src[k - 1]) for k in range(1, len(sizes))]
    ).astype(np.int64)
    extra_dst = np.arange(sizes[0], n)
    rows = np.r_[src[keep], extra_src]
    cols = np.r_[dst[keep], extra_dst]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def giant(n: int, m: int, seed: int) -> sp.csr_matrix:
    """A graph that is mostly one strongly connected component (a ring plus random links)."""
    rng = np.random.default_rng(seed)
    ring = np.arange(n)
    rows = np.r_[ring, rng.integers(0, n, m)]
    cols = np.r_[(ring + 1) % n, rng.integers(0, n, m)]
    weight = np.r_[np.ones(n), rng.choice([0.5, 1.0, 3.0], m)]
    return sp.csr_matrix((weight, (rows, cols)), shape=(n, n))


def test_levels_of_a_layered_graph_are_its_layers() -> None:
    matrix = layered([50, 80, 120, 40], 3000, seed=1)
    condensed = sp.csr_matrix(matrix)
    topo = kernels.topological_order(
        condensed.indptr.astype(np.int64), condensed.indices.astype(np.int32)
    )
    level = kernels.dag_levels(
        condensed.indptr.astype(np.int64), condensed.indices.astype(np.int32), topo
    )
    assert level.tolist() == np.repeat(np.arange(4), [50, 80, 120, 40]).tolist()


def test_strong_components_are_scipys() -> None:
    rng = np.random.default_rng(5)
    for n, m in [(1, 0), (6, 0), (200, 150), (500, 900), (3000, 12_000)]:
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        matrix = sp.csr_matrix((np.ones(m), (src, dst)), shape=(n, n))
        count, label = kernels.strong_components(
            matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32)
        )
        expected_count, expected = csgraph.connected_components(
            matrix, directed=True, connection="strong"
        )
        assert count == expected_count
        # the same partition: each of our components is exactly one of scipy's
        pairs = set(zip(label.tolist(), expected.tolist(), strict=True))
        assert len(pairs) == count
        # and sinks come first: no link leads from a component to a later-numbered one
        assert (label[src] >= label[dst]).all()


def test_waves_hold_no_link_inside_and_follow_the_levels() -> None:
    matrix = layered([50, 80, 120, 40], 3000, seed=2)
    walk = FastWalk(matrix, order="scc")
    assert walk.blocks is not None and (np.diff(walk.blocks) == 1).all()
    starts = np.flatnonzero(walk.cut)
    assert starts.tolist() == [0, 50, 130, 250]  # one wave per layer, in level order
    bounds = np.r_[starts, matrix.shape[0]]
    for lo, hi in itertools.pairwise(bounds):
        sources = walk.in_indices[walk.in_indptr[lo] : walk.in_indptr[hi]]
        assert (sources < lo).all()  # every row of a wave reads only rows before the wave


def test_scc_order_sorts_by_level_and_in_degree() -> None:
    matrix = layered([30, 60, 90], 1500, seed=3)
    perm, blocks = scc_order(matrix)
    indegree = np.diff(matrix.tocsc().indptr)[perm]
    for lo, hi in [(0, 30), (30, 90), (90, 180)]:
        assert (np.diff(indegree[lo:hi]) <= 0).all()
    assert len(blocks) == 181


def test_indegree_order_puts_the_longest_rows_first() -> None:
    matrix = giant(500, 3000, seed=4)
    perm = node_order(matrix, "indegree")
    assert sorted(perm.tolist()) == list(range(500))
    assert (np.diff(np.diff(matrix.tocsc().indptr)[perm]) <= 0).all()
    walk = FastWalk(matrix, order="indegree")
    assert (np.diff(np.diff(walk.in_indptr)) <= 0).all()


def test_balance_makes_the_mass_of_a_block_add_up() -> None:
    matrix = giant(400, 2500, seed=5)
    walk = FastWalk(matrix, order="scc")
    assert walk.blocks is not None and walk.blocks.tolist() == [0, 400]
    rng = np.random.default_rng(0)
    y = rng.random(400).astype(np.float32)
    p = np.zeros(0, dtype=np.float32)
    args = (walk.in_indptr, walk.in_indices, walk.in_prob, p, y, 0, 400, 0.85)
    base, _, inner = kernels._block_inputs(*args)
    pull = sp.csr_matrix((walk.in_prob, walk.in_indices, walk.in_indptr), shape=(400, 400))
    assert np.isclose(inner, (pull @ y.astype(np.float64)).sum(), rtol=1e-5)
    factor = kernels._balance(y, base, inner, 0, 400, 0.85)
    assert factor != 1.0
    balanced = y.astype(np.float64)
    left = balanced.sum() - 0.85 * (pull @ balanced).sum()
    assert np.isclose(left, base.sum(), rtol=1e-5)


def test_extrapolation_jumps_to_the_limit_of_a_geometric_sequence() -> None:
    rng = np.random.default_rng(1)
    limit = rng.random(50)
    direction = rng.standard_normal(50)
    ratio = 0.6
    before = limit + ratio**4 * direction
    after = limit + ratio**5 * direction
    y = np.r_[np.zeros(3), after].astype(np.float32)
    kernels._extrapolate(y, before.astype(np.float32), 3, ratio / (1 - ratio))
    assert np.abs(y[3:] - limit).max() < 1e-5
    assert (y[:3] == 0).all()


def test_block_solver_on_one_large_component_matches_the_reference() -> None:
    matrix = giant(3000, 20_000, seed=6)
    expected = reference(matrix.toarray())
    walk = FastWalk(matrix, order="scc")
    cold = walk.pagerank(tol=1e-7)
    assert cold.converged
    assert np.abs(cold.vector - expected).sum() < 1e-6
    changed = matrix + sp.csr_matrix(
        ([1.0] * 5, ([1, 9, 70, 300, 2999], [5, 4, 8, 1, 0])), (3000, 3000)
    )
    fresh = reference(changed.toarray())
    again = FastWalk(changed, order="scc")
    again.pagerank(tol=1e-7)
    cold_work = again.last_work
    warm = again.pagerank(tol=1e-7, start=cold.vector)
    assert np.abs(warm.vector - fresh).sum() < 1e-6
    assert again.last_work < cold_work


def test_label_propagation_finds_two_cliques_joined_by_one_link() -> None:
    clique = np.ones((6, 6)) - np.eye(6)
    dense = np.zeros((12, 12))
    dense[:6, :6] = clique
    dense[6:, 6:] = clique
    dense[0, 6] = dense[6, 0] = 1.0
    pattern = sp.csr_matrix(dense)
    labels = kernels.label_propagation(
        pattern.indptr.astype(np.int64), pattern.indices.astype(np.int32), 10, 0
    )
    assert len(set(labels[:6].tolist())) == 1 and len(set(labels[6:].tolist())) == 1
    assert labels[0] != labels[6]
    perm = node_order(sp.csr_matrix(dense), "community")
    halves = [set(perm[:6].tolist()), set(perm[6:].tolist())]
    assert sorted(map(min, halves)) == [0, 6]  # each community is one run of the order
    assert halves[0] in ({0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 11})


def test_scc_community_order_keeps_the_blocks_valid() -> None:
    matrix = giant(600, 3000, seed=8) + layered([300, 300], 500, seed=9)
    perm, blocks = scc_order(sp.csr_matrix(matrix), communities=True)
    assert sorted(perm.tolist()) == list(range(600))
    where = np.empty(600, dtype=np.int64)
    where[perm] = np.arange(600)
    block_of = np.repeat(np.arange(len(blocks) - 1), np.diff(blocks))
    coo = sp.csr_matrix(matrix).tocoo()
    assert (block_of[where[coo.row]] <= block_of[where[coo.col]]).all()


def test_a_personalized_solve_reads_only_the_components_its_seeds_reach() -> None:
    parts = [giant(1500, 9000, seed=s) for s in (1, 2, 3)]
    whole = sp.csr_matrix(sp.block_diag([*parts, sp.csr_matrix((200, 200))]))
    seeds = np.zeros(whole.shape[0])
    seeds[[3, 70, 900]] = [1.0, 2.0, 1.0]
    walk = FastWalk(whole, order="scc")
    result = walk.pagerank(damping=0.5, personalization=seeds, tol=1e-7)
    first = parts[0].toarray()
    moves = first / first.sum(axis=1)[:, None]  # a ring in each part: no dangling row
    p = seeds[:1500] / seeds.sum()
    expected = np.linalg.solve(np.eye(1500) - 0.5 * moves.T, 0.5 * p)
    assert np.abs(result.vector[:1500] - expected / expected.sum()).sum() < 1e-6
    assert not result.vector[1500:].any()  # exactly zero where no walk can go
    alone = FastWalk(parts[0], order="scc")
    alone.pagerank(damping=0.5, personalization=seeds[:1500], tol=1e-7)
    # the other parts' 21,000 links are not read (before, each was read three times)
    assert walk.last_work <= 1.05 * alone.last_work
    # from a start (the blocks that stay zero are found by looking, not known beforehand)
    again = walk.pagerank(damping=0.5, personalization=seeds, tol=1e-7, start=result.vector)
    assert np.abs(again.vector - result.vector).sum() < 1e-6
    assert not again.vector[1500:].any() and walk.last_work <= alone.last_work
