"""Building views at scale: a synthetic work graph loaded into SQLite, read into a compact view.

Usage::

    python bench/view_build.py [--links 10000000] [--db /tmp/view_build.db]

Prints, with the machine load (``os.getloadavg``) beside the timings:

1. generating the graph (:func:`knotwork.graph.synthetic.generate`) and loading it into a
   fresh SQLite store (:func:`knotwork.store.bulk.load`);
2. building the view from SQLite in a fresh process (target: at most 60 s at 10M links), its
   peak RSS (``resource.getrusage``; target: at most 4 GB) and bytes per link (target: at most
   24), against the baseline of the same run: a plain ``SELECT`` of the link columns into a
   Python list, in another fresh process, with its own time and peak RSS;
3. live updates: adding 10,000 links to the store, and the time until the next
   :func:`knotwork.graph.view.cached_view` returns a view holding them, against the build.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from knotwork.graph.synthetic import generate
from knotwork.graph.view import LINK_QUERY, cached_view
from knotwork.store.bulk import load
from knotwork.store.engine import Store

LIVE = 10_000


def peak_mb() -> float:
    """Peak resident memory of this process, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_text() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def child(phase: str, db: str, extra: str) -> dict[str, float]:
    """Run one measured phase in a fresh process (its own peak RSS) and read its figures."""
    done = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--db", db, "--extra", extra],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def phase_build(db: str, extra: str) -> dict[str, float]:
    store = Store.open(f"sqlite:///{db}")
    start = time.perf_counter()
    view = cached_view(store)
    build = time.perf_counter() - start
    figures = {
        "build_s": build,
        "peak_mb": peak_mb(),
        "links": view.n_links,
        "nodes": view.n_nodes,
        "bytes_per_link": view.nbytes / max(view.n_links, 1),
    }
    with open(extra, "rb") as handle:
        late = pickle.load(handle)
    start = time.perf_counter()
    load(store, late)
    figures["add_s"] = time.perf_counter() - start
    start = time.perf_counter()
    live = cached_view(store)
    figures["live_s"] = time.perf_counter() - start
    figures["live_links"] = live.n_links
    figures["extended"] = float(live.previous is not None)
    return figures


def phase_baseline(db: str) -> dict[str, float]:
    store = Store.open(f"sqlite:///{db}")
    start = time.perf_counter()
    raw = store.engine.raw_connection()
    rows = raw.cursor().execute(LINK_QUERY).fetchall()
    raw.close()
    return {"select_s": time.perf_counter() - start, "peak_mb": peak_mb(), "rows": len(rows)}


def main() -> None:
    """Generate, load, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=10_000_000)
    parser.add_argument("--db", default="")
    parser.add_argument("--phase", default="", help=argparse.SUPPRESS)
    parser.add_argument("--extra", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        figures = phase_build(args.db, args.extra) if args.phase == "build" else None
        print(json.dumps(figures or phase_baseline(args.db)))
        return
    folder = Path(tempfile.mkdtemp(prefix="view_build_"))
    db = args.db or str(folder / "store.db")
    Path(db).unlink(missing_ok=True)
    start = time.perf_counter()
    graph = generate(args.links + LIVE)
    print(
        f"generate {args.links + LIVE:,} links, {len(graph.node_id):,} nodes: "
        f"{time.perf_counter() - start:.1f} s ({load_text()})"
    )
    store = Store.open(f"sqlite:///{db}")
    start = time.perf_counter()
    nodes, links = load(store, graph.part(0, args.links))
    took = time.perf_counter() - start
    print(
        f"load into SQLite: {links:,} links, {nodes:,} nodes in {took:.1f} s "
        f"({links / took:,.0f} links/s; {load_text()})"
    )
    extra = str(folder / "late.pickle")
    with open(extra, "wb") as handle:
        pickle.dump(graph.part(args.links, args.links + LIVE), handle)
    del graph
    built = child("build", db, extra)
    base = child("baseline", db, extra)
    print(
        f"view build: {built['build_s']:.1f} s (target <= 60 s at 10M), "
        f"peak RSS {built['peak_mb']:,.0f} MB (target <= 4096), "
        f"{built['bytes_per_link']:.1f} B/link (target <= 24) ({load_text()})"
    )
    print(
        f"baseline plain SELECT into Python: {base['select_s']:.1f} s, "
        f"peak RSS {base['peak_mb']:,.0f} MB; build/baseline = "
        f"{built['build_s'] / base['select_s']:.2f}x"
    )
    print(
        f"live: add {LIVE:,} links {built['add_s']:.2f} s; next cached_view "
        f"{built['live_s']:.2f} s (extended={bool(built['extended'])}, "
        f"{built['live_links']:,.0f} links) vs rebuild {built['build_s']:.1f} s ({load_text()})"
    )
    Path(extra).unlink()
    if not args.db:
        Path(db).unlink()
        for suffix in ("-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
        folder.rmdir()


if __name__ == "__main__":
    main()
