"""Timings of the native platform on a large store (e.g. DPDK's history).

Usage::

    python bench/native_perf.py --db sqlite:////tmp/dpdk-native.db [--path drivers/net/ice/]

Build the store once with ``knotwork ingest git /work/.mirror/DPDK+dpdk/repo --db ...``. The
script writes a proposal, a need and a post into it (as the most active person), then times:

* ``affected`` of a proposal on a path: the first call (walk matrix built) and the warm median;
* ``match`` of a need: first call (text index and walks built) and warm median;
* post, then ``who-knows`` of the cited file until the poster is found (incremental view).

The baseline printed next to each figure, measured in the same run, is a full view rebuild
(:meth:`GraphView.build`), which is what every figure would cost without the cached,
incrementally updated view. Targets: affected <= 100 ms, match <= 100 ms, post-to-visible <= 1 s.
The machine load (1-minute average) is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from knotwork.graph.view import GraphView, cached_view
from knotwork.services.decisions import affected, propose
from knotwork.services.expertise import who_knows
from knotwork.services.market import match
from knotwork.services.native import need, post
from knotwork.store.engine import Store


def timed(function: Callable[[], Any], repeat: int = 1) -> tuple[float, list[float], Any]:
    """(first seconds, following seconds, last result) of calling ``function``."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times[0], times[1:], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--path", default="drivers/net/ice/")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    store = Store.open(args.db)
    build, _, view = timed(lambda: GraphView.build(store))
    print(f"store: {view.n_nodes} nodes, {view.n_links} links; load {os.getloadavg()[0]:.2f}")
    print(f"baseline: full view rebuild {build * 1000:.0f} ms")
    cached_view(store)
    people = np.flatnonzero(view.people())
    degree = np.bincount(view.src, minlength=view.n_nodes)
    actor = view.keys[int(people[np.argmax(degree[people])])]
    now = int(time.time())
    proposal = propose(
        store, actor, "Bench: rework the driver", affects=[args.path], closes=now + 86_400
    )
    first, warm, found = timed(lambda: affected(store, proposal), args.repeat)
    print(
        f"affected ({len(found)} people): first {first * 1000:.0f} ms, warm median "
        f"{statistics.median(warm) * 1000:.1f} ms (target 100 ms); load {os.getloadavg()[0]:.2f}"
    )
    wanted = need(store, actor, "help with packet checksum offload and tunnel parsing")
    first, warm, ranked = timed(lambda: match(store, wanted), args.repeat)
    print(
        f"match ({len(ranked)} people): first {first * 1000:.0f} ms, warm median "
        f"{statistics.median(warm) * 1000:.1f} ms (target 100 ms); load {os.getloadavg()[0]:.2f}"
    )
    other = need(store, actor, "documentation of the flow rule parser")
    after, _, _ = timed(lambda: match(store, other))
    print(
        f"match of a need written just before: {after * 1000:.0f} ms (target 100 ms); "
        f"load {os.getloadavg()[0]:.2f}"
    )
    target = view.keys[int(np.flatnonzero(view.mask("file"))[0])]
    who_knows(store, target)  # warm the expertise index
    outsider = view.keys[int(people[np.argmin(degree[people])])]
    started = time.perf_counter()
    post(store, outsider, "Bench: notes on this file", cites=[target])
    written = time.perf_counter() - started
    seen = False
    while time.perf_counter() - started < 30 and not seen:
        seen = outsider in [e.key for e in who_knows(store, target, limit=1000).experts]
    elapsed = time.perf_counter() - started
    print(
        f"post -> visible in who-knows: {elapsed * 1000:.0f} ms (write {written * 1000:.0f} ms; "
        f"seen: {seen}; target 1000 ms); "
        f"load {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
