"""Groups at scale: the person-person projection and Leiden on a generated work graph, each
figure next to the time of the igraph call alone on the same projection, measured in this run.

    .venv/bin/python bench/groups_perf.py [--links 10000000] [--people 100000] [--top-k 50]

Steps timed: the view (from the synthetic generator, no store), the projection
(:func:`knotwork.services.groups.projection`: hyperbolic weights, items of more than
``max_participants`` people left out, optionally each person's ``top_k`` strongest ties), the
igraph graph, Knotwork's :func:`~knotwork.graph.communities.leiden` (Leiden iterated while
modularity grows) and, as the baseline, one plain ``igraph.Graph.community_leiden`` call
(objective modularity, default iterations) on the same graph, and ``find_groups`` end to end
(what ``knotwork groups`` runs after reading the store, labels included, without a store so
words are not read).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from knotwork.graph.communities import leiden, modularity, to_igraph
from knotwork.graph.synthetic import generate
from knotwork.services.groups import find_groups, projection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=2_000_000)
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--max-participants", type=int, default=100)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    start = time.perf_counter()
    graph = generate(args.links, seed=0, people=args.people)
    view = graph.to_view()
    print(
        f"graph: {view.n_nodes:,} nodes, {view.n_links:,} links, "
        f"{int(view.people().sum()):,} people; built in {time.perf_counter() - start:.1f} s"
    )
    start = time.perf_counter()
    proj = projection(view, max_participants=args.max_participants, top_k=args.top_k)
    t_proj = time.perf_counter() - start
    tied = np.flatnonzero(np.diff(proj.adjacency.indptr) > 0)
    adjacency = proj.adjacency[tied][:, tied].tocsr()
    print(
        f"projection: {len(tied):,} people with ties, {adjacency.nnz // 2:,} ties, "
        f"{proj.dropped_items:,} crowded items left out: {t_proj:.1f} s"
    )
    start = time.perf_counter()
    ig_graph, weights = to_igraph(adjacency)
    t_build = time.perf_counter() - start
    start = time.perf_counter()
    plain = ig_graph.community_leiden(objective_function="modularity", weights=weights)
    t_plain = time.perf_counter() - start
    q_plain = modularity(adjacency, plain.membership)
    start = time.perf_counter()
    labels, q_ours = leiden(adjacency, seed=0)
    t_ours = time.perf_counter() - start
    print(f"igraph graph build: {t_build:.1f} s")
    print(
        f"igraph community_leiden alone: {t_plain:6.1f} s  modularity {q_plain:.4f}  "
        f"groups {len(set(plain.membership)):,}"
    )
    print(
        f"knotwork leiden (incl. build):  {t_ours:6.1f} s  modularity {q_ours:.4f}  "
        f"groups {int(labels.max()) + 1:,}  ({t_ours / t_plain:.2f}x the igraph call)"
    )
    start = time.perf_counter()
    result = find_groups(view, k_min=5, top_k=args.top_k, max_participants=args.max_participants)
    t_all = time.perf_counter() - start
    print(
        f"find_groups end to end (projection, Leiden, labels): {t_all:.1f} s, "
        f"{len(result.groups):,} groups, modularity {result.modularity:.4f} "
        f"({t_all / t_plain:.2f}x the igraph call)"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
