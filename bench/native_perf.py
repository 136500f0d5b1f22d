"""Timings of the native platform on a large store (e.g. DPDK's history).

Usage::

    python bench/native_perf.py --db sqlite:////tmp/dpdk-native.db [--path drivers/net/ice/]

Build the store once with ``knotwork ingest git /work/.mirror/DPDK+dpdk/repo --db ...``. The
script writes a proposal, a need and a post into it (as the most active person), then times:

* ``affected`` of a proposal on a path: the first call (walk matrix built) and the warm median;
* ``match`` of a need: first call (text index and walks built) and warm median;
* post, then ``who-knows`` of the cited file until the poster is found (incremental view);
* who ``affected`` finds for a few paths against the maintainers of that path in DPDK's
  ``MAINTAINERS`` file (read at the last commit where the path existed, ``--repo``):
  precision and recall at several thresholds (share of the strongest person's mass).

The kernel baseline printed next to ``affected`` is the scipy power iteration on a walk built
per call, which is what ``affected`` cost before the numba kernels and the per-view walk.

The baseline printed next to each figure, measured in the same run, is a full view rebuild
(:meth:`GraphView.build`), which is what every figure would cost without the cached,
incrementally updated view. Targets: affected <= 100 ms, match <= 100 ms, post-to-visible <= 1 s.
The machine load (1-minute average) is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from knotwork.graph.rank import Walk
from knotwork.graph.view import GraphView, cached_view
from knotwork.services.decisions import AFFECTED_WEIGHTS, affected, propose
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


def maintainers(repo: str, path: str) -> set[str]:
    """E-mail addresses of the maintainers (``M:``) of the sections whose ``F:`` lines cover
    ``path``, in MAINTAINERS at the last commit where ``path`` existed."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", f"--git-dir={repo}", *args], capture_output=True, text=True, check=True
        ).stdout

    gone = git("log", "-1", "--format=%H", "--diff-filter=D", "--", path).strip()
    text = git("show", f"{gone}^:MAINTAINERS" if gone else "HEAD:MAINTAINERS")
    found: set[str] = set()
    for section in text.split("\n\n"):
        files = re.findall(r"^F: (\S+)", section, re.M)
        if any(path.startswith(f) or f.startswith(path) for f in files):
            found |= {m.lower() for m in re.findall(r"^M: .*<(.+?)>", section, re.M)}
    return found


def accuracy(
    store: Store, actor: str, repo: str, paths: list[str], thresholds: list[float]
) -> None:
    """Precision and recall of ``affected`` against the maintainers of each path."""
    now = int(time.time())
    for path in paths:
        expected = maintainers(repo, path)
        if not expected:
            print(f"  {path}: no maintainers found; skipped")
            continue
        proposal = propose(store, actor, f"Bench: change {path}", affects=[path], closes=now + 9)
        found = affected(store, proposal, threshold=min(thresholds))
        cells = []
        for threshold in thresholds:
            chosen = {a["key"].lower() for a in found if a["strength"] >= threshold}
            hit = len(chosen & expected)
            precision = hit / len(chosen) if chosen else 0.0
            cells.append(
                f"{threshold:g}: {len(chosen)} people P {precision:.2f} R {hit / len(expected):.2f}"
            )
        print(f"  {path} ({len(expected)} maintainers): " + "; ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--path", default="drivers/net/ice/")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--repo", default="/work/.mirror/DPDK+dpdk/repo")
    parser.add_argument(
        "--paths",
        nargs="*",
        default=[
            "drivers/net/ice/",
            "drivers/net/i40e/",
            "drivers/net/ixgbe/",
            "drivers/net/mlx5/",
            "lib/ethdev/",
        ],
    )
    parser.add_argument("--thresholds", nargs="*", type=float, default=[0.02, 0.05, 0.06, 0.1, 0.2])
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
    seeds = np.zeros(view.n_nodes)
    seeds[np.flatnonzero([k.startswith(args.path) for k in view.keys])] = 1.0
    _, base, _ = timed(
        lambda: Walk(view.matrix(AFFECTED_WEIGHTS)).rank(
            damping=0.5, personalization=seeds, tol=1e-6, max_iter=60
        ),
        args.repeat,
    )
    print(
        f"  baseline: scipy walk built and ranked per call {statistics.median(base) * 1000:.1f} ms"
    )
    other_proposal = propose(
        store, actor, "Bench: rework the driver again", affects=[args.path], closes=now + 86_400
    )
    after, _, _ = timed(lambda: affected(store, other_proposal))
    print(
        f"affected of a proposal written just before: {after * 1000:.0f} ms (target 100 ms); "
        f"load {os.getloadavg()[0]:.2f}"
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
    print(
        f"affected vs MAINTAINERS (threshold: P precision, R recall); load {os.getloadavg()[0]:.2f}"
    )
    accuracy(store, actor, args.repo, args.paths, args.thresholds)
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
