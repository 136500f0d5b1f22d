"""Spark PageRank next to the local engine on the same data, and its scaling per link.

For each size, a synthetic work graph (:func:`knotwork.graph.synthetic.generate`) is exported
as Parquet (:mod:`knotwork.scale.parquet`, as ``knotwork export parquet`` does) and ranked:

* Spark (:func:`knotwork.scale.spark.pagerank` on ``--master``, default ``local[2]``) for a fixed
  number of iterations (tolerance 0). The walk measures its change every
  :data:`~knotwork.scale.spark.CHECK_EVERY` iterations; the time between the first and the last
  measure, divided by the iterations between them, is the **time per iteration** (the set-up:
  reading, the transition table, the first iterations, is reported apart);
* the local engine on the same view: scipy power iteration (:class:`knotwork.graph.rank.Walk`,
  float64) and the numba pull kernel (:class:`knotwork.graph.ppr.FastWalk`, float32, what
  ``top`` uses beyond 20,000 nodes), the same number of iterations.

It prints time per iteration and per link, the extrapolation to a billion links (linear, on
the same cores; divided by the cores of a cluster as a best case), and the ratio of Spark's
time per link at the largest size to the smallest (target <= 1.5: linear scaling). A
tolerance run (``--tol``, default 1e-6; on the smallest size unless ``--tol-links``) checks
that Spark and scipy agree (L1 distance). Usage::

    .venv/bin/python bench/spark_rank.py --links 1000000,10000000
    .venv/bin/python bench/spark_rank.py --links 1000000,10000000,30000000 --driver-memory 8g
    .venv/bin/python bench/spark_rank.py --links 100000 --iterations 5 --tol-damping 0.5  # quick

Memory: the generated graph, its view and matrices live in this process only while the local
engine runs; they are freed before Spark (its JVM, ``--driver-memory``, is the only one on
``local[N]``) reads the export. Sizes run one after the other.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from knotwork.graph.ppr import FastWalk
from knotwork.graph.rank import Walk
from knotwork.graph.synthetic import generate
from knotwork.scale import parquet
from knotwork.scale import spark as engine
from knotwork.services.authority import AUTHORITY_WEIGHTS

BILLION = 1_000_000_000


def say(*parts: object) -> None:
    """Print at once (the runs are long; output piped to a file stays in order)."""
    print(*parts, flush=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def spark_iterations(
    session: Any, folder: Path, n_nodes: int, iterations: int, damping: float
) -> dict[str, float]:
    """Spark PageRank for CHECK_EVERY + ``iterations`` iterations: set-up and time per iteration."""
    marks: list[tuple[int, float]] = []
    started = time.perf_counter()
    engine.pagerank(
        session,
        engine.links_frame(session, folder),
        n_nodes,
        weights=AUTHORITY_WEIGHTS,
        damping=damping,
        tol=0.0,
        max_iter=engine.CHECK_EVERY + iterations,
        progress=lambda done, _change: marks.append((done, time.perf_counter())),
    )
    total = time.perf_counter() - started
    (first, t_first), (last, t_last) = marks[0], marks[-1]
    return {
        "setup": t_first - started,
        "per_iteration": (t_last - t_first) / (last - first),
        "total": total,
    }


def local_iterations(view: Any, iterations: int, damping: float) -> dict[str, float]:
    """Seconds per iteration of scipy's and numba's PageRank, ``iterations`` each (no tolerance)."""
    started = time.perf_counter()
    matrix = view.matrix(AUTHORITY_WEIGHTS)
    built = time.perf_counter() - started
    walk = Walk(matrix)
    started = time.perf_counter()
    walk.rank(damping=damping, tol=0.0, max_iter=iterations)
    scipy_time = (time.perf_counter() - started) / iterations
    fast = FastWalk(matrix)
    fast.pagerank(damping=damping, tol=0.0, max_iter=2)  # compile the kernels
    started = time.perf_counter()
    fast.pagerank(damping=damping, tol=0.0, max_iter=iterations)
    numba_time = (time.perf_counter() - started) / iterations
    return {"matrix": built, "scipy": scipy_time, "numba": numba_time}


def tolerance_run(
    session: Any, folder: Path, view: Any, tol: float, damping: float
) -> dict[str, float]:
    """Spark and scipy PageRank to ``tol``: iterations, seconds, and their L1 distance."""
    started = time.perf_counter()
    remote = engine.pagerank(
        session,
        engine.links_frame(session, folder),
        view.n_nodes,
        weights=AUTHORITY_WEIGHTS,
        damping=damping,
        tol=tol,
    )
    spark_seconds = time.perf_counter() - started
    started = time.perf_counter()
    local = Walk(view.matrix(AUTHORITY_WEIGHTS)).rank(damping=damping, tol=tol)
    local_seconds = time.perf_counter() - started
    return {
        "spark_iterations": remote.iterations,
        "spark_seconds": spark_seconds,
        "local_iterations": local.iterations,
        "local_seconds": local_seconds,
        "l1": float(np.abs(remote.vector - local.vector).sum()),
        "converged": float(remote.converged and local.converged),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", default="1000000,10000000", help="sizes, comma-separated")
    parser.add_argument("--iterations", type=int, default=10, help="timed iterations per run")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--partitions", default="8", help="spark.sql.shuffle.partitions")
    parser.add_argument("--damping", type=float, default=0.85)
    parser.add_argument("--tol", type=float, default=1e-6, help="tolerance run (0: none)")
    parser.add_argument(
        "--tol-links", type=int, help="links of the tolerance run [default: the smallest size]"
    )
    parser.add_argument(
        "--tol-damping", type=float, help="damping of the tolerance run [default: --damping]"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="folder to keep the exports in")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.links.split(","))
    folder_root = args.keep or Path(tempfile.mkdtemp(prefix="knotwork-spark-bench-"))
    session = engine.session(
        args.master, partitions=args.partitions, driver_memory=args.driver_memory
    )
    say(f"Spark {session.version} on {args.master}, {args.iterations} timed iterations")
    say(f"{load()} at start")
    rows = []
    for links in sizes:
        started = time.perf_counter()
        view = generate(links, seed=args.seed).to_view()
        gc.collect()
        made = time.perf_counter() - started
        folder = folder_root / f"links-{links}"
        started = time.perf_counter()
        parquet.export_view(view, folder)
        exported = time.perf_counter() - started
        local = local_iterations(view, args.iterations, args.damping)
        n_nodes, n_links = view.n_nodes, view.n_links
        del view  # Spark reads the export: free this process's copy first
        gc.collect()
        remote = spark_iterations(session, folder, n_nodes, args.iterations, args.damping)
        row = {"links": n_links, "nodes": n_nodes, **remote}
        row.update({f"local_{k}": v for k, v in local.items()})
        rows.append(row)
        say(
            f"\n{n_links:,} links, {n_nodes:,} nodes "
            f"(generated in {made:.1f} s, exported in {exported:.1f} s; {load()})"
        )
        say(
            f"  spark {args.master}: {remote['per_iteration']:.2f} s/iteration "
            f"({remote['per_iteration'] / n_links * 1e9:.0f} ns per link), "
            f"set-up and first {engine.CHECK_EVERY} iterations {remote['setup']:.1f} s"
        )
        say(
            f"  local scipy: {local['scipy'] * 1e3:.1f} ms/iteration, numba: "
            f"{local['numba'] * 1e3:.2f} ms/iteration (matrix built in {local['matrix']:.1f} s); "
            "spark/numba "
            f"{remote['per_iteration'] / local['numba']:.0f}x per iteration"
        )
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    if args.tol > 0:
        links = args.tol_links or sizes[0]
        damping = args.damping if args.tol_damping is None else args.tol_damping
        view = generate(links, seed=args.seed).to_view()
        folder = folder_root / f"tolerance-{links}"
        parquet.export_view(view, folder)
        check = tolerance_run(session, folder, view, args.tol, damping)
        say(f"\nTolerance run on {view.n_links:,} links, damping {damping:g} ({load()}):")
        say(
            f"  tolerance {args.tol:g}: spark {check['spark_iterations']:.0f} iterations in "
            f"{check['spark_seconds']:.1f} s, scipy {check['local_iterations']:.0f} in "
            f"{check['local_seconds']:.2f} s; L1(spark - scipy) = {check['l1']:.2e} "
            f"{'PASS' if check['l1'] < args.tol and check['converged'] else 'FAIL'}"
        )
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    session.stop()
    say(f"\nExtrapolation to {BILLION:,} links (linear in links; stated, not measured):")
    largest = rows[-1]
    per_link = largest["per_iteration"] / largest["links"]
    cores = int(args.master[6:-1]) if args.master.startswith("local[") else None
    say(
        f"  from {largest['links']:,} links: {per_link * BILLION:.0f} s per iteration on "
        f"{args.master}" + (f" ({per_link * BILLION * cores:.0f} core-seconds)" if cores else "")
    )
    if cores:
        for cluster in (64, 256, 1024):
            say(
                f"  on {cluster} cores, if it scaled perfectly: "
                f"{per_link * BILLION * cores / cluster:.1f} s per iteration"
            )
    if len(rows) > 1:
        smallest = rows[0]
        slope = (largest["per_iteration"] - smallest["per_iteration"]) / (
            largest["links"] - smallest["links"]
        )
        between = f"between {smallest['links']:,} and {largest['links']:,} links"
        if slope > 0:
            say(
                f"  marginal cost {between}: {slope * 1e9:.0f} ns per link per iteration -> "
                f"{slope * BILLION:.0f} s per iteration at {BILLION:,} links"
            )
        else:
            say(f"  no marginal cost {between}: the fixed cost per iteration dominates")
        ratio = per_link / (smallest["per_iteration"] / smallest["links"])
        say(
            f"\nTime per link, {largest['links']:,} / {smallest['links']:,} links: {ratio:.2f} "
            f"(target <= 1.5) {'PASS' if ratio <= 1.5 else 'FAIL'}"
        )
    say(f"{load()} at end")


if __name__ == "__main__":
    main()
