"""Performance of ``knotwork health`` and ``knotwork report`` on a generated work graph.

Usage::

    python bench/health_perf.py [--links 5000000] [--people 100000] [--samples 64]

The graph comes from :func:`knotwork.graph.synthetic.generate` and is viewed without a store
(the view build is the graph layer's business, measured in ``bench/graph_perf.py``). Targets:
``health`` <= 120 s with sampled betweenness, the report <= 30 s more. Each figure is printed
next to the time of the igraph calls alone on the same people graph, in the same run (the
baseline: what any implementation must pay), and with the machine load.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import igraph as ig
import numpy as np
import scipy.sparse as sp

from knotwork.graph.synthetic import generate
from knotwork.services.health import health_of_view, structure
from knotwork.services.health_base import people_graph
from knotwork.services.report import render


def load() -> str:
    """The machine's load averages, to read the figures by."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def igraph_alone(adjacency: sp.csr_matrix, samples: int) -> dict[str, float]:
    """Seconds of the bare igraph calls health makes: Leiden, sampled betweenness, coreness,
    constraint, on a graph built straight from the adjacency."""
    upper = sp.triu(adjacency, k=1).tocoo()
    started = time.perf_counter()
    graph = ig.Graph(
        n=adjacency.shape[0], edges=np.column_stack([upper.row, upper.col]), directed=False
    )
    graph.es["weight"] = upper.data
    times = {"build": time.perf_counter() - started}
    random.seed(0)
    started = time.perf_counter()
    graph.community_leiden(objective_function="modularity", weights="weight", n_iterations=-1)
    times["leiden"] = time.perf_counter() - started
    sources = np.random.default_rng(0).choice(graph.vcount(), size=samples, replace=False)
    started = time.perf_counter()
    graph.betweenness(directed=False, sources=sorted(sources.tolist()))
    times["betweenness"] = time.perf_counter() - started
    started = time.perf_counter()
    graph.coreness()
    times["coreness"] = time.perf_counter() - started
    started = time.perf_counter()
    graph.constraint(weights="weight")
    times["constraint"] = time.perf_counter() - started
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=500_000)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=64)
    args = parser.parse_args()
    print(f"generating {args.links:,} links, {args.people:,} people; {load()}", flush=True)
    started = time.perf_counter()
    view = generate(args.links, people=args.people).to_view()
    print(
        f"view: {view.n_nodes:,} nodes, {view.n_links:,} links in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )

    started = time.perf_counter()
    graph = people_graph(view)
    projection = time.perf_counter() - started
    print(
        f"people graph: {graph.n:,} people, {graph.adjacency.nnz // 2:,} ties in "
        f"{projection:.1f} s",
        flush=True,
    )
    baseline = igraph_alone(graph.adjacency, min(args.samples, graph.n))
    igraph_total = sum(baseline.values())
    print(
        "igraph alone: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in baseline.items())
        + f" = {igraph_total:.1f} s; {load()}",
        flush=True,
    )

    started = time.perf_counter()
    structure(view, samples=min(args.samples, graph.n))
    shared = time.perf_counter() - started
    started = time.perf_counter()
    report = health_of_view(view, k_min=5, samples=min(args.samples, graph.n))
    rest = time.perf_counter() - started
    health_s = projection + shared + rest
    print(
        f"health: {health_s:.1f} s (projection {projection:.1f} + groups/cores/betweenness "
        f"{shared:.1f} + metrics {rest:.1f}) vs igraph alone {igraph_total:.1f} s "
        f"[target 120 s]; {load()}",
        flush=True,
    )

    started = time.perf_counter()
    text = render(view, report)
    out = Path(tempfile.mkdtemp()) / "report.html"
    out.write_text(text, encoding="utf-8")
    report_s = time.perf_counter() - started
    print(
        f"report: {report_s:.1f} s more, {out.stat().st_size / 1e6:.1f} MB [target 30 s]; {load()}",
        flush=True,
    )
    for metric in report.metrics:
        print(f"  {metric.name}: {metric.value}")


if __name__ == "__main__":
    main()
