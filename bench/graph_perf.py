"""Performance of the graph layer on a real store, as ratios against baselines of the same run.

Usage::

    python bench/graph_perf.py REPO --db sqlite:///store.db [--queries 200]

1. view build: :meth:`GraphView.build` against one plain ``SELECT`` of the same link columns
   into numpy arrays (target: at most 3x);
2. authority: PageRank over the whole view (target: at most 2 s);
3. who-knows: median and p99 over queries made of the path patterns of the sections of the
   repository's maintainer file, warm, in one process (targets: 50 ms and 200 ms).
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from eval_expertise import read_sections
from knotwork.graph.view import LINK_QUERY, GraphView
from knotwork.services.authority import authority
from knotwork.services.expertise import who_knows
from knotwork.store.engine import Store


def plain_select(path: str) -> tuple[float, int]:
    """Seconds to read the link columns with one SELECT into numpy arrays, and the rows."""
    started = time.perf_counter()
    connection = sqlite3.connect(path)
    rows = connection.execute(LINK_QUERY).fetchall()
    connection.close()
    src, dst, kind, when, weight, flags = zip(*rows, strict=True)
    arrays = [
        np.asarray(src, dtype=np.int64),
        np.asarray(dst, dtype=np.int64),
        np.asarray(kind, dtype=object),
        np.asarray([-1 if t is None else t for t in when], dtype=np.int64),
        np.asarray(weight, dtype=np.float64),
        np.asarray(flags, dtype=np.int64),
    ]
    return time.perf_counter() - started, len(arrays[0])


def best_of(runs: int, work: object) -> float:
    """The best time of ``runs`` calls of ``work``."""
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    """Run the three measurements and print them with PASS/FAIL."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--db", required=True, help="sqlite:///path of the ingested store")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    if not args.db.startswith("sqlite:///"):
        raise SystemExit("the baseline reads SQLite directly: give a sqlite:/// URL")
    path = args.db.removeprefix("sqlite:///")
    store = Store.open(args.db, upgrade=False)
    failures = 0

    select_s = best_of(3, lambda: plain_select(path))
    rows = plain_select(path)[1]
    build_s = best_of(3, lambda: GraphView.build(store))
    ratio = build_s / select_s
    failures += ratio > 3
    print(
        f"view build: {build_s:.3f} s vs plain SELECT {select_s:.3f} s of {rows:,} links: "
        f"{ratio:.2f}x (target <= 3x) {verdict(ratio <= 3)}"
    )

    view = GraphView.build(store)
    started = time.perf_counter()
    result = authority(view)
    rank_s = time.perf_counter() - started
    failures += rank_s > 2
    print(
        f"authority: {rank_s:.3f} s on {view.n_nodes:,} nodes, {view.n_links:,} links, "
        f"{result.iterations} iterations (target <= 2 s) {verdict(rank_s <= 2)}"
    )

    _, sections = read_sections(args.repo)
    queries = [" ".join(s.patterns) for s in sections]
    queries = (queries * (args.queries // max(len(queries), 1) + 1))[: args.queries]
    started = time.perf_counter()
    who_knows(store, queries[0])
    first_s = time.perf_counter() - started
    latencies = []
    for query in queries:
        started = time.perf_counter()
        who_knows(store, query)
        latencies.append((time.perf_counter() - started) * 1000)
    median = statistics.median(latencies)
    p99 = float(np.percentile(latencies, 99))
    ok = median <= 50 and p99 <= 200
    failures += not ok
    print(
        f"who-knows: {len(latencies)} queries, first (cold) {first_s:.2f} s, warm median "
        f"{median:.1f} ms (target <= 50), p99 {p99:.1f} ms (target <= 200) {verdict(ok)}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
