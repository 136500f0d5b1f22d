"""Graph engine benchmark: PageRank, warm start, personalized PageRank, who-knows, groups.

Each Knotwork figure is printed next to baselines measured in the same run, with the machine
load. Usage::

    .venv/bin/python bench/graph_engine.py --links 1000000 --seed 0          # quick
    .venv/bin/python bench/graph_engine.py --links 10000000 --seed 0         # issue 4 size

The graph is :func:`knotwork.graph.synthetic.generate` (its node count follows from the link
count). PageRank is timed for each ``--orders`` (``none``/``degree``/``indegree``/``community``/
``rcm``/``bfs``: pull power iteration; ``scc``/``scc-community``: the block solver) as passes
over the links and ms per pass (wall and CPU time: on a shared machine the CPU time is the
steadier figure), with its L1 error against
a float64 solve to 1e-10 (networkit's too). At 10M links the whole run stays under 3.5 GB of
peak memory (networkx runs on the 10x smaller graph, marked). ``--only groups`` runs the
groups step alone.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp

from knotwork.graph.ppr import FastWalk, Method, top
from knotwork.graph.rank import pagerank


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def graph(nodes: int, links: int, seed: int) -> tuple[sp.csr_matrix, Any]:
    """The benchmark graph as a directed weighted adjacency matrix (and the synthetic graph)."""
    from knotwork.graph.synthetic import generate

    if links:
        g = generate(links, seed=seed)
        order = np.argsort(g.node_id)
        ids = g.node_id[order]
        src = np.searchsorted(ids, g.src)
        dst = np.searchsorted(ids, g.dst)
        n = len(ids)
        matrix = sp.csr_matrix((g.weight.astype(np.float32), (src, dst)), shape=(n, n))
        return matrix, g
    rng = np.random.default_rng(seed)
    activity = 1.0 / np.arange(1, nodes + 1) ** 0.9
    activity /= activity.sum()
    src = rng.choice(nodes, size=links, p=activity)
    dst = rng.choice(nodes, size=links, p=rng.permutation(activity))
    ones = np.ones(links, dtype=np.float32)
    return sp.csr_matrix((ones, (src, dst)), shape=(nodes, nodes)), None


def scipy_power(matrix: sp.csr_matrix, tol: float) -> int:
    """Plain scipy float32 power iteration (the simple baseline)."""
    n = matrix.shape[0]
    out = np.asarray(matrix.sum(axis=1)).ravel()
    inverse = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0).astype(np.float32)
    transposed = sp.csr_matrix((sp.diags(inverse) @ matrix).T, dtype=np.float32)
    dangling = out <= 0
    x = np.full(n, 1.0 / n, dtype=np.float32)
    for iteration in range(1, 201):
        new = 0.85 * (transposed @ x) + (0.85 * float(x[dangling].sum()) + 0.15) / n
        change = float(np.abs(new - x).sum())
        x = new.astype(np.float32)
        if change < tol:
            return iteration
    return 200


def copy_bandwidth() -> float:
    """Bytes per second of a large numpy copy (read + write counted)."""
    a = np.ones(50_000_000, dtype=np.float32)
    b = np.empty_like(a)
    np.copyto(b, a)
    best = min(timed(lambda: np.copyto(b, a))[0] for _ in range(5))
    return 2 * a.nbytes / best


#: CPU seconds (all threads) of the fastest-in-CPU run of the last :func:`best_of`.
LAST_CPU = float("inf")


def best_of(
    runs: int, walk: FastWalk, tol: float, start: np.ndarray | None = None
) -> tuple[float, Any]:
    """The fastest of ``runs`` PageRank solves on ``walk`` (seconds, result)."""
    best: tuple[float, Any] | None = None
    global LAST_CPU
    LAST_CPU = float("inf")
    for _ in range(runs):
        begin = time.perf_counter()
        cpu = time.process_time()
        result = walk.pagerank(tol=tol, start=start)
        seconds = time.perf_counter() - begin
        LAST_CPU = min(LAST_CPU, time.process_time() - cpu)
        if best is None or seconds < best[0]:
            best = (seconds, result)
    assert best is not None
    return best


def igraph_pagerank(graph: Any, weights: list[float]) -> float:
    """Seconds of igraph's PRPACK PageRank on ``graph``."""
    begin = time.perf_counter()
    graph.pagerank(weights=weights, implementation="prpack")
    return time.perf_counter() - begin


def bench_pagerank(
    matrix: sp.csr_matrix, small: sp.csr_matrix, tol: float, orders: list[str]
) -> dict[str, Any]:
    n, m = matrix.shape[0], matrix.nnz
    first, _ = timed(lambda: FastWalk(sp.csr_matrix(np.ones((3, 3))), order="scc").pagerank())
    print(f"numba first call (cache load or compile) on a 3-node graph: {first * 1000:.0f} ms")
    reference = pagerank(matrix, tol=1e-10, max_iter=1000).vector  # float64 scipy, exact
    results: dict[str, Any] = {}
    best_walk: FastWalk | None = None
    for order in orders:
        start = time.perf_counter()
        walk = FastWalk(matrix, order=order)  # type: ignore[arg-type]
        build = time.perf_counter() - start
        seconds, result = best_of(5, walk, tol)
        passes = walk.last_work / walk.n_links
        per = seconds / passes * 1000
        cpu_per = LAST_CPU / passes * 1000
        error = float(np.abs(result.vector - reference).sum())
        method = "blocks" if order.startswith("scc") else "pull power iteration"
        print(
            f"knotwork PageRank order={order:6s} ({method}): {seconds:.3f} s, {passes:.1f} passes "
            f"over the links, {per:.2f} ms/pass (CPU {cpu_per:.2f} ms/pass, threads "
            f"{walk.last_threads}), L1 error {error:.1e} (build {build:.1f} s)  "
            f"[{load()}]"
        )
        results[order] = (seconds, per, result.vector)
        if best_walk is None or seconds <= min(r[0] for r in results.values()):
            best_walk = walk
        del walk
    best = min(results, key=lambda k: results[k][0])
    print(f"best order: {best}")
    bandwidth = copy_bandwidth()
    assert best_walk is not None
    walk = best_walk
    bytes_per_it = 8 * m + 8 * (n + 1) + 3 * 4 * n
    floor = bytes_per_it / bandwidth * 1000
    print(
        f"streaming floor: {bytes_per_it / 1e6:.0f} MB/it / {bandwidth / 1e9:.1f} GB/s = "
        f"{floor:.2f} ms/it"
    )
    import networkit as nk

    nkg = nk.Graph(n, weighted=True, directed=True)
    coo = matrix.tocoo()
    nkg.addEdges(
        (coo.data.astype(np.float64), (coo.row.astype(np.uint64), coo.col.astype(np.uint64)))
    )
    pr = nk.centrality.PageRank(nkg, damp=0.85, tol=tol)
    if hasattr(nk.centrality, "Norm"):
        pr.norm = nk.centrality.Norm.L1_NORM
    networkit_s, _ = timed(pr.run)
    theirs = np.asarray(pr.scores(), dtype=np.float64)
    nk_error = float(np.abs(theirs / theirs.sum() - reference).sum())
    print(
        f"networkit PageRank: {networkit_s:.3f} s ({pr.numberOfIterations()} it), L1 error "
        f"{nk_error:.1e}  [{load()}]"
    )
    del nkg, pr
    import igraph as ig

    igraph_s = igraph_pagerank(
        ig.Graph(n=n, edges=np.column_stack([coo.row, coo.col]).tolist(), directed=True),
        coo.data.tolist(),
    )
    del coo
    print(f"igraph PRPACK PageRank: {igraph_s:.3f} s  [{load()}]")
    scipy_s, scipy_it = timed(lambda: scipy_power(matrix, tol))
    print(
        f"scipy float32 power iteration: {scipy_s:.3f} s, {scipy_it} it, "
        f"{scipy_s / scipy_it * 1000:.2f} ms/it"
    )
    import networkx as nx

    small_g = nx.from_scipy_sparse_array(small, create_using=nx.DiGraph)
    nx_s, _ = timed(lambda: nx.pagerank(small_g, tol=tol / small.shape[0]))
    small_walk = FastWalk(small)
    ours_small, _ = timed(lambda: small_walk.pagerank(tol=tol))
    print(
        f"networkx PageRank on the 10x smaller graph ({small.shape[0]} nodes, {small.nnz} links; "
        f"MARKED: not the same graph): {nx_s:.3f} s vs knotwork {ours_small:.3f} s there"
    )
    ours_s, per = results[best][0], results[best][1]
    print(
        f"TARGET PageRank <= 0.15x networkit: {ours_s / networkit_s:.3f}x "
        f"{verdict(ours_s <= 0.15 * networkit_s)}"
    )
    print(
        f"TARGET PageRank <= 10 ms/it: {per:.2f} ms per pass over the links {verdict(per <= 10)} "
        f"(floor {floor:.2f})"
    )
    return {"walk": walk, "order": best, "vector": results[best][2], "cold": ours_s}


def bench_warm(
    matrix: sp.csr_matrix, order: str, previous: np.ndarray, tol: float, seed: int
) -> None:
    n = matrix.shape[0]
    rng = np.random.default_rng(seed + 1)
    extra = sp.csr_matrix(
        (
            np.ones(10_000, dtype=np.float32),
            (rng.integers(0, n, 10_000), rng.integers(0, n, 10_000)),
        ),
        shape=(n, n),
    )
    changed = matrix + extra
    reference = pagerank(changed, tol=1e-10, max_iter=1000).vector  # float64 scipy, exact
    walk = FastWalk(changed, order=order)  # type: ignore[arg-type]
    cold_s, cold = best_of(3, walk, tol)
    cold_work = walk.last_work / walk.n_links
    warm_s, warm = best_of(3, walk, tol, previous)
    warm_work = walk.last_work / walk.n_links
    share = warm_s / cold_s
    gaps = [first_residual(walk, x) for x in (np.full(n, 1.0 / n), previous / previous.sum())]
    bound = np.log(gaps[1] / tol) / np.log(gaps[0] / tol)
    print(
        f"first-step L1 residual (power iteration): cold {gaps[0]:.2e}, warm {gaps[1]:.2e}; "
        f"a method that shrinks it by a constant factor per pass needs >= "
        f"log(warm/tol)/log(cold/tol) = {bound:.0%} of the cold passes"
    )
    gap = float(np.abs(cold.vector - warm.vector).sum())
    errors = [float(np.abs(v.vector - reference).sum()) for v in (cold, warm)]
    print(
        f"after 10,000 new links (order {order}): cold {cold_s:.3f} s ({cold_work:.1f} passes), "
        f"warm {warm_s:.3f} s ({warm_work:.1f} passes), L1 gap warm-cold {gap:.1e} "
        f"{verdict(gap <= 1e-6)}, L1 error cold {errors[0]:.1e} warm {errors[1]:.1e} (warm "
        f"within 2x of cold {verdict(errors[1] <= 2 * errors[0])})  [{load()}]"
    )
    print(f"TARGET warm <= 20% of cold: {share:.0%} {verdict(share <= 0.2)}")


def first_residual(walk: FastWalk, x: np.ndarray) -> float:
    """L1 change of one power-iteration step from ``x`` (a distribution) on ``walk``."""
    inner = np.asarray(x, dtype=np.float64)[walk.perm]
    pull = sp.csr_matrix((walk.in_prob, walk.in_indices, walk.in_indptr), shape=(walk.n, walk.n))
    lost = float(inner[walk.dangling].sum())
    step = 0.85 * (pull @ inner) + (0.85 * lost + 0.15) / walk.n
    return float(np.abs(step - inner).sum())


def bench_ppr(walk: FastWalk, seeds_count: int, seed: int) -> None:
    rng = np.random.default_rng(seed + 2)
    active = np.flatnonzero(np.diff(walk.out_indptr)[walk.rank_of] > 0)
    seeds = rng.choice(active, size=seeds_count, replace=False)
    truth: list[set[int]] = []
    exact_s = 0.0
    for lo in range(0, seeds_count, 25):
        chunk = seeds[lo : lo + 25]
        seconds, exact = timed(partial(walk.personalized_exact, chunk, tol=1e-7))
        exact_s += seconds
        for c in range(len(chunk)):
            reached = np.flatnonzero(exact[:, c] > 1e-9)
            truth.append(set(top(reached, exact[reached, c], 20).tolist()))
    print(
        f"exact PPR (batched power iteration, 25 seeds a pass): "
        f"{exact_s / seeds_count * 1000:.1f} ms/seed"
    )
    methods: tuple[Method, ...] = ("auto", "walks", "push")
    for method in methods:  # load (or compile) every kernel before timing
        walk.personalized({int(seeds[0]): 1.0}, method=method)
    for method in methods:
        times, overlaps = [], []
        for s, want in zip(seeds.tolist(), truth, strict=True):
            seconds, (nodes, values) = timed(partial(walk.personalized, {s: 1.0}, method=method))
            found = top(nodes, values, 20)
            times.append(seconds * 1000)
            overlaps.append(len(set(found.tolist()) & want) / max(len(want), 1))
        median, p99 = np.percentile(times, [50, 99])
        overlap = float(np.mean(overlaps))
        label = f"{method} ({walk.method_for({0: 1.0})})" if method == "auto" else method
        print(
            f"PPR one seed, {label:12s}: median {median:.2f} ms, p99 {p99:.2f} ms, "
            f"top-20 overlap {overlap:.3f} over {seeds_count} seeds  [{load()}]"
        )
        if method == "auto":
            print(
                f"TARGET PPR median <= 5 ms {verdict(median <= 5)}, p99 <= 20 ms "
                f"{verdict(p99 <= 20)}, overlap >= 0.95 {verdict(overlap >= 0.95)}"
            )


def igraph_leiden(adjacency: sp.csr_matrix) -> tuple[float, float]:
    """Seconds and modularity of one plain igraph Leiden call (two iterations) on a symmetric
    adjacency (the baseline)."""
    import igraph as ig

    upper = sp.triu(adjacency, k=1).tocoo()
    g = ig.Graph(n=adjacency.shape[0], edges=np.column_stack([upper.row, upper.col]).tolist())
    weights = upper.data.tolist()
    begin = time.perf_counter()
    part = g.community_leiden(objective_function="modularity", weights=weights, n_iterations=2)
    seconds = time.perf_counter() - begin
    return seconds, float(g.modularity(part.membership, weights=weights))


def bench_groups(synthetic: Any) -> None:
    """Groups on the person projection: knotwork's Leiden on the people that have a
    colleague (as :mod:`knotwork.services.groups` does; an isolated node is its own group and
    adds nothing to modularity), scored on the whole projection, against igraph's Leiden on
    the whole projection (the issue's baseline) and on the same people."""
    from knotwork.graph.communities import leiden, modularity

    projection = synthetic.to_view().person_person()
    off = sp.csr_matrix(projection - sp.diags(projection.diagonal()))
    off.eliminate_zeros()
    begin = time.perf_counter()
    active = np.flatnonzero(np.diff(off.indptr) > 0)
    sub = projection[active][:, active]
    found, _ = leiden(sub, seed=0, max_rounds=2)
    labels = np.arange(projection.shape[0], dtype=np.int64) + int(found.max()) + 1
    labels[active] = found
    ours_s = time.perf_counter() - begin
    q = modularity(projection, labels)
    print(
        f"groups, knotwork leiden on the person projection ({projection.shape[0]} nodes, "
        f"{len(active)} with a colleague, {off.nnz // 2} pairs): {ours_s:.1f} s, modularity "
        f"{q:.4f}, {int(found.max()) + 1} groups of 2+  [{load()}]"
    )
    base_s, base_q = igraph_leiden(projection)
    print(
        f"groups, igraph community_leiden on the whole projection (baseline): {base_s:.1f} s, "
        f"modularity {base_q:.4f}  [{load()}]"
    )
    same_s, same_q = igraph_leiden(sub)
    print(
        f"groups, igraph community_leiden on the same {len(active)} people: {same_s:.1f} s, "
        f"modularity {same_q:.4f}  [{load()}]"
    )
    print(
        f"TARGET groups <= 30 s {verdict(ours_s <= 30)}, modularity >= igraph "
        f"{verdict(q >= max(base_q, same_q) - 1e-9)}"
    )


def bench_who_knows(db: str | None, queries: int) -> None:
    if not db:
        print("who-knows: no --db given, skipped")
        return
    from knotwork.services.expertise import who_knows
    from knotwork.store.engine import Store

    store = Store.open(db)
    words = [
        "mbuf",
        "ring",
        "mempool",
        "ethdev",
        "crypto",
        "eal",
        "pci",
        "vhost",
        "ixgbe",
        "i40e",
        "mlx5",
        "hash",
        "lpm",
        "acl",
        "timer",
        "memory",
        "log",
        "test",
        "doc",
        "build",
    ]
    first, _ = timed(lambda: who_knows(store, words[0]))
    times = []
    for i in range(queries):
        seconds, _ = timed(partial(who_knows, store, words[i % len(words)]))
        times.append(seconds * 1000)
    median, p99 = np.percentile(times, [50, 99])
    print(
        f"who-knows on {db}: first {first * 1000:.0f} ms (index build), then median {median:.1f} "
        f"ms, "
        f"p99 {p99:.1f} ms over {queries} queries  [{load()}]"
    )
    print(f"TARGET who-knows p99 <= 50 ms {verdict(p99 <= 50)}")


def bench_post_seen(db: str | None) -> None:
    """Seconds from writing a commit into a copy of the store to seeing it in who-knows."""
    if not db or not db.startswith("sqlite:///"):
        print("post then seen: needs a --db sqlite:/// store, skipped")
        return
    import shutil
    import tempfile

    from knotwork.graph.sample import commit_record
    from knotwork.ingest.base import Batch
    from knotwork.services.expertise import who_knows
    from knotwork.store.engine import Store
    from knotwork.store.writer import SourceInfo, write_batch

    folder = tempfile.mkdtemp()
    copy = f"{folder}/copy.db"
    shutil.copy(db.removeprefix("sqlite:///"), copy)
    store = Store.open(f"sqlite:///{copy}")
    warm_s, _ = timed(lambda: who_knows(store, "mempool lib/mempool/"))
    seen = []
    for i in range(3):
        record = commit_record(
            f"bench{i}", f"newcomer{i}@bench.org", 2_000_000_000 + i,
            [f"lib/benchfeature{i}/feature.c"], f"benchfeature{i}: frobnicate the zorblax",
        )  # fmt: skip
        start = time.perf_counter()
        write_batch(store, SourceInfo("git", "git:bench", "bench"), Batch([record], [], {}))
        answer = who_knows(store, f"zorblax lib/benchfeature{i}/")
        seconds = time.perf_counter() - start
        found = any(e.key == f"newcomer{i}@bench.org" for e in answer.experts)
        seen.append(seconds if found else float("inf"))
    shutil.rmtree(folder)
    worst = max(seen)
    print(
        f"post then seen in who-knows (write + query, 3 posts): "
        f"{', '.join(f'{s * 1000:.0f} ms' for s in seen)} (first who-knows {warm_s:.1f} s)  "
        f"[{load()}]"
    )
    print(f"TARGET post seen <= 1 s {verdict(worst <= 1.0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--ppr-seeds", type=int, default=200)
    parser.add_argument("--db", default=None, help="store for the who-knows step")
    parser.add_argument("--skip-groups", action="store_true")
    parser.add_argument(
        "--orders",
        default="none,degree,indegree,community,scc,scc-community",
        help="node orders to time (comma-separated; any order of FastWalk)",
    )
    parser.add_argument(
        "--only",
        choices=["ppr", "warm", "who-knows", "groups"],
        default=None,
        help="run one step only (ppr and warm without the library baselines)",
    )
    args = parser.parse_args()
    if args.only == "who-knows":
        bench_who_knows(args.db, 200)
        bench_post_seen(args.db)
        return
    print(f"cores {os.cpu_count()}, {load()}")
    made, (matrix, synthetic) = timed(lambda: graph(args.nodes, args.links, args.seed))
    print(f"graph: {matrix.shape[0]} nodes, {matrix.nnz} distinct links (made in {made:.1f} s)")
    if args.only == "groups":
        bench_groups(synthetic)
        return
    if args.only in ("ppr", "warm"):
        quick = FastWalk(matrix, order="scc")
        if args.only == "ppr":
            bench_ppr(quick, args.ppr_seeds, args.seed)
        else:
            cold_s, cold = timed(lambda: quick.pagerank(tol=args.tol))
            print(f"cold PageRank {cold_s:.3f} s ({cold.iterations} it)  [{load()}]")
            bench_warm(matrix, "scc", cold.vector, args.tol, args.seed)
        return
    small, _ = graph(max(args.nodes // 10, 1000), max(args.links // 10, 1000), args.seed)
    found = bench_pagerank(matrix, small, args.tol, args.orders.split(","))
    walk: FastWalk = found["walk"]
    print(f"walk arrays: {walk.nbytes / walk.n_links:.1f} bytes/link (both directions, cum incl.)")
    bench_warm(matrix, found["order"], found["vector"], args.tol, args.seed)
    bench_ppr(walk, args.ppr_seeds, args.seed)
    bench_who_knows(args.db, 200)
    bench_post_seen(args.db)
    if not args.skip_groups:
        bench_groups(synthetic)
    print(f"done  [{load()}]")


if __name__ == "__main__":
    main()
