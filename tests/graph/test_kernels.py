"""The numba kernels of FastWalk against a dense numpy reference and networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp

from knotwork.graph.ppr import FastWalk, node_order, scc_order, top
from knotwork.graph.rank import pagerank

Dense = npt.NDArray[np.float64]
ORDERS = ["none", "degree", "indegree", "community", "rcm", "bfs", "scc", "scc-community"]


def reference(weights: Dense, damping: float = 0.85, seeds: Dense | None = None) -> Dense:
    """Personalized PageRank the obvious way: solve x = d (P^T x + dangling jump) + (1-d) p.

    P is the row-normalised weight matrix; a dangling row jumps to p like the teleport.
    """
    n = weights.shape[0]
    p = np.full(n, 1.0 / n) if seeds is None else seeds / seeds.sum()
    out = weights.sum(axis=1)
    moves = np.where(out[:, None] > 0, weights / np.where(out > 0, out, 1.0)[:, None], p[None, :])
    # x = d M^T x + (1 - d) p  <=>  (I - d M^T) x = (1 - d) p
    return np.asarray(np.linalg.solve(np.eye(n) - damping * moves.T, (1 - damping) * p))


def power_law_graph(n: int, m: int, seed: int) -> sp.csr_matrix:
    """A directed graph whose sources and targets follow Zipf-like activity, with dangling nodes."""
    rng = np.random.default_rng(seed)
    activity = 1.0 / np.arange(1, n + 1) ** 0.9
    activity /= activity.sum()
    src = rng.choice(n, size=m, p=activity)
    dst = rng.choice(n, size=m, p=rng.permutation(activity))
    weight = rng.choice([0.5, 1.0, 2.0], size=m)
    matrix = sp.csr_matrix((weight, (src, dst)), shape=(n, n))
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    return matrix


GRAPHS = {
    "dangling": sp.csr_matrix(
        ([1.0, 3.0, 1.0, 1.0, 2.0, 2.0, 0.5], ([0, 0, 1, 2, 3, 4, 2], [1, 2, 2, 0, 4, 5, 5])),
        shape=(6, 6),
    ),
    "star": sp.csr_matrix(([1.0] * 5, ([1, 2, 3, 4, 0], [0, 0, 0, 0, 1])), shape=(5, 5)),
    "power-law": power_law_graph(300, 1500, seed=3),
}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_pagerank_kernel_matches_reference_networkx_and_scipy(name: str, order: str) -> None:
    matrix = GRAPHS[name]
    walk = FastWalk(matrix, order=order)  # type: ignore[arg-type]
    ours = walk.pagerank(tol=1e-6)
    assert ours.converged
    expected = reference(matrix.toarray())
    assert np.abs(ours.vector - expected).sum() < 2e-5
    graph = nx.from_scipy_sparse_array(matrix, create_using=nx.DiGraph)
    theirs = nx.pagerank(graph, tol=1e-12, max_iter=1000)
    assert np.abs(ours.vector - [theirs[i] for i in range(matrix.shape[0])]).sum() < 2e-5
    assert np.abs(ours.vector - pagerank(matrix, tol=1e-12).vector).sum() < 2e-5


def test_node_orders_are_permutations() -> None:
    matrix = GRAPHS["power-law"]
    for order in ORDERS:
        perm = node_order(matrix, order)  # type: ignore[arg-type]
        assert sorted(perm.tolist()) == list(range(matrix.shape[0]))
    degree = np.diff(matrix.indptr) + np.diff(matrix.tocsc().indptr)
    by_degree = node_order(matrix, "degree")
    assert degree[by_degree[0]] >= degree[by_degree[-1]]


def test_warm_start_after_new_links_takes_fewer_iterations() -> None:
    matrix = GRAPHS["power-law"]
    first = FastWalk(matrix).pagerank(tol=1e-6)
    changed = matrix.tolil()
    for a, b in [(5, 7), (10, 200), (250, 3)]:
        changed[a, b] = 1.0
    walk = FastWalk(changed.tocsr())
    cold = walk.pagerank(tol=1e-6)
    warm = walk.pagerank(tol=1e-6, start=first.vector)
    assert warm.iterations < cold.iterations
    assert np.abs(warm.vector - cold.vector).sum() < 1e-5


def test_pull_iteration_stops_where_float32_rounding_stops_its_progress() -> None:
    # a tolerance far below float32's resolution of a unit total cannot be met: the iteration
    # stops once the change no longer falls, long before max_iter, at the reference's answer
    matrix = power_law_graph(5000, 40_000, seed=11)
    walk = FastWalk(matrix)
    stalled = walk.pagerank(tol=1e-13, max_iter=5000)
    assert not stalled.converged
    assert stalled.iterations < 300
    exact = pagerank(matrix, tol=1e-12).vector
    assert np.abs(stalled.vector - exact).sum() < 2e-6
    # a warm start from that answer stops after a few steps of rounding noise
    again = walk.pagerank(tol=1e-13, max_iter=5000, start=stalled.vector)
    assert again.iterations <= 10 < stalled.iterations


def with_cycles(n: int, m: int, seed: int) -> sp.csr_matrix:
    """A power-law graph whose links mostly go forward (a DAG part, as in a work graph: people
    to items to files) plus a few backward ones that close cycles, and self-loops."""
    matrix = power_law_graph(n, m, seed).tocoo()
    forward = matrix.row < matrix.col
    rng = np.random.default_rng(seed)
    back = rng.random(matrix.nnz) < 0.05
    keep = forward | back
    loops = rng.choice(n, size=5, replace=False)
    rows = np.r_[matrix.row[keep], loops]
    cols = np.r_[matrix.col[keep], loops]
    data = np.r_[matrix.data[keep], np.ones(5)]
    return sp.csr_matrix((data, (rows, cols)), shape=(n, n))


def test_scc_order_puts_components_in_topological_order() -> None:
    matrix = with_cycles(400, 2500, seed=7)
    perm, blocks = scc_order(matrix)
    assert sorted(perm.tolist()) == list(range(400))
    block_of = np.repeat(np.arange(len(blocks) - 1), np.diff(blocks))
    where = np.empty(400, dtype=np.int64)
    where[perm] = np.arange(400)
    coo = matrix.tocoo()
    assert (block_of[where[coo.row]] <= block_of[where[coo.col]]).all()
    _, labels = sp.csgraph.connected_components(matrix, directed=True, connection="strong")
    for b in range(len(blocks) - 1):  # each block is exactly one strongly connected component
        members = perm[blocks[b] : blocks[b + 1]]
        assert len(set(labels[members].tolist())) == 1
        assert (labels == labels[members[0]]).sum() == len(members)
    assert (np.diff(blocks) > 1).any() and (np.diff(blocks) == 1).any()


@pytest.mark.parametrize(("seed", "parallel_rows"), [(1, 20_000), (2, 2)])
def test_block_solver_matches_the_reference_and_power_iteration(
    seed: int, parallel_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import knotwork.graph.ppr as ppr

    monkeypatch.setattr(ppr, "PARALLEL_ROWS", parallel_rows)  # 2: blocks swept by all threads
    matrix = with_cycles(300, 2000, seed)
    expected = reference(matrix.toarray())
    blocks = FastWalk(matrix, order="scc").pagerank(tol=1e-7)  # float32 values: 1e-7 at best
    power = FastWalk(matrix, order="none").pagerank(tol=1e-7)
    assert blocks.converged and power.converged
    assert np.abs(blocks.vector - expected).sum() < 1e-6
    assert np.abs(power.vector - expected).sum() < 1e-5
    seeds = np.zeros(300)
    seeds[[3, 50]] = [1.0, 2.0]
    personal = FastWalk(matrix, order="scc").pagerank(personalization=seeds, tol=1e-7)
    assert np.abs(personal.vector - reference(matrix.toarray(), seeds=seeds)).sum() < 1e-6


def test_block_solver_warm_start_matches_a_cold_solve_within_tol() -> None:
    matrix = with_cycles(3000, 30_000, seed=3)
    first = FastWalk(matrix, order="scc").pagerank(tol=1e-6)
    rng = np.random.default_rng(9)
    extra = sp.csr_matrix(
        (np.ones(100), (rng.integers(0, 3000, 100), rng.integers(0, 3000, 100))), shape=(3000, 3000)
    )
    walk = FastWalk(matrix + extra, order="scc")
    cold = walk.pagerank(tol=1e-6)
    cold_work = walk.last_work
    warm = walk.pagerank(tol=1e-6, start=first.vector)
    assert np.abs(warm.vector - cold.vector).sum() < 1e-6
    assert np.abs(cold.vector - reference((matrix + extra).toarray())).sum() < 1e-6
    assert walk.last_work <= cold_work
    assert cold_work < 10 * walk.n_links  # power iteration reads the links ~40 times here


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_every_personalized_method_matches_the_reference(name: str) -> None:
    matrix = GRAPHS[name]
    n = matrix.shape[0]
    seeds = {0: 3.0, 2: 1.0}
    vector = np.zeros(n)
    for node, weight in seeds.items():
        vector[node] = weight
    expected = reference(matrix.toarray(), seeds=vector)
    walk = FastWalk(matrix)
    tolerance = {"power": 1e-5, "push": 1e-3, "walks": 0.03}
    for method, bound in tolerance.items():
        nodes, values = walk.personalized(seeds, method=method, eps=1e-8, walks=200_000)  # type: ignore[arg-type]
        dense = np.zeros(n)
        dense[nodes] = values
        assert np.abs(dense - expected).sum() < bound, method
    theirs = nx.pagerank(
        nx.from_scipy_sparse_array(matrix, create_using=nx.DiGraph),
        personalization={0: 3.0, 2: 1.0},
        tol=1e-12,
        max_iter=1000,
    )
    nodes, values = walk.personalized(seeds, method="push", eps=1e-9)
    assert all(abs(theirs[int(i)] - v) < 1e-5 for i, v in zip(nodes, values, strict=True))


def test_fast_methods_find_the_exact_top_20() -> None:
    matrix = power_law_graph(3000, 20_000, seed=5)
    walk = FastWalk(matrix)
    seeds = np.array([0, 17, 400])
    exact = walk.personalized_exact(seeds)
    for column, seed in enumerate(seeds.tolist()):
        truth = set(top(np.arange(3000), exact[:, column], 20).tolist())
        for method in ("push", "walks"):
            nodes, values = walk.personalized({seed: 1.0}, method=method, eps=1e-7)
            found = set(top(nodes, values, 20).tolist())
            assert len(found & truth) >= 17, (method, seed)
        single = walk.personalized({seed: 1.0}, method="power", tol=1e-9)
        dense = np.zeros(3000)
        dense[single[0]] = single[1]
        assert np.abs(dense - exact[:, column]).sum() < 1e-5


def test_scratch_arrays_are_left_clean_between_queries() -> None:
    walk = FastWalk(GRAPHS["power-law"])
    first = walk.personalized({1: 1.0}, method="push")
    walk.personalized({7: 1.0, 9: 2.0}, method="push")
    walk.personalized({4: 1.0}, method="walks")
    again = walk.personalized({1: 1.0}, method="push")
    assert np.array_equal(first[0], again[0]) and np.allclose(first[1], again[1])
    assert not walk._residual.any() and not walk._counts.any() and not walk._queued.any()


def test_method_rule_follows_the_query_size() -> None:
    small = FastWalk(GRAPHS["star"])
    assert small.method_for({0: 1.0}) == "power"
    big = FastWalk(power_law_graph(30_000, 60_000, seed=1))
    assert big.method_for({0: 1.0}) == "push"
    assert big.method_for({i: 1.0 for i in range(100)}) == "push"
    assert big.method_for({i: 1.0 for i in range(5000)}) == "power"


def test_bad_queries_are_refused() -> None:
    walk = FastWalk(GRAPHS["star"])
    with pytest.raises(ValueError, match="seed"):
        walk.personalized({})
    with pytest.raises(ValueError, match="seed nodes"):
        walk.personalized({99: 1.0})
    with pytest.raises(ValueError, match="damping"):
        walk.pagerank(damping=1.0)
    with pytest.raises(ValueError, match="square"):
        FastWalk(sp.csr_matrix((2, 3)))
    assert FastWalk(sp.csr_matrix((0, 0))).pagerank().vector.size == 0


def test_bounded_push_then_walks_from_the_residual(monkeypatch: pytest.MonkeyPatch) -> None:
    import knotwork.graph.ppr as ppr

    matrix = power_law_graph(3000, 20_000, seed=5)
    walk = FastWalk(matrix)
    exact = walk.personalized_exact(np.array([0]))[:, 0]
    truth = set(top(np.arange(3000), exact, 20).tolist())
    cut = walk.personalized({0: 1.0}, method="push", eps=1e-9, max_work=500)
    assert sum(cut[1]) < 0.9  # the budget left much of the mass in the residual
    monkeypatch.setattr(ppr, "SMALL_GRAPH", 0)
    monkeypatch.setattr(ppr, "AUTO_WORK", 500)
    nodes, values = walk.personalized({0: 1.0}, eps=1e-9, walks=100_000)
    assert sum(values) == pytest.approx(1.0, abs=0.02)  # estimate + walked residual
    dense = np.zeros(3000)
    dense[nodes] = values
    assert np.abs(dense - exact).sum() < 0.06
    assert len(set(top(nodes, values, 20).tolist()) & truth) >= 17
    assert not walk._residual.any() and not walk._counts.any() and not walk._queued.any()
