"""Timings of the native platform on a large store (e.g. DPDK's history).

Usage::

    python bench/native_perf.py --db sqlite:////tmp/dpdk-native.db [--path drivers/net/ice/]

Build the store once with ``knotwork ingest git /work/.mirror/DPDK+dpdk/repo --db ...`` and
run on a copy: the script writes proposals, needs and posts into it (as the most active
person). For ``affected`` (of a proposal on a path) and ``match`` (of a need) it prints three
figures:

* **first call**: in a fresh Python process (as a CLI call), the view load and then the call
  (walk built, numba kernels loaded, text index and authority read from disk or built);
* **warm**: the median of calling it again on the same view;
* **after a write**: the median over ``--writes`` rounds of writing and then calling: for
  ``affected``, a post citing a file under the path, then the proposal's affected people; for
  ``match``, a new need, then its matches. The live case, where people write all the time: the
  view is extended, the walk matrix patched, the walk rebuilt and ranked again.

Then: ``propose`` (which keeps the affected snapshot), ``participation`` over every proposal
(read from the snapshots) next to the old way (``affected`` recomputed per proposal) measured in
the same run; post, then ``who-knows`` of the cited file until the poster is found among the
first 1,000 (ranks only: evidence for 1,000 people is not what a reader asks for; incremental
view); and who ``affected`` finds for a few paths against the maintainers of that path in
DPDK's ``MAINTAINERS`` file (read at the last commit where the path existed, ``--repo``):
precision and recall at several thresholds (share of the strongest person's mass).

The baseline printed first, measured in the same run, is a full view rebuild
(:meth:`GraphView.build`), which is what every figure would cost without the cached,
incrementally updated view. Targets: affected <= 100 ms, match <= 100 ms, post-to-visible
<= 1 s. The machine load (1-minute average) is printed with the figures, and next to the
after-write wall time the CPU time the process used for the call (on a busy machine the wall
time is mostly waiting for a core; the numba kernels may use two threads, so CPU time can
exceed wall time on an idle one).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from knotwork.graph.view import GraphView, cached_view
from knotwork.services.decisions import affected, propose
from knotwork.services.expertise import who_knows
from knotwork.services.market import match
from knotwork.services.native import need, post
from knotwork.services.participation import participation
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


FIRST_CALL = """
import sys, time
from knotwork.graph.view import cached_view
from knotwork.services.decisions import affected
from knotwork.services.market import match
from knotwork.store.engine import Store
store = Store.open(sys.argv[1])
started = time.perf_counter()
cached_view(store)
view = time.perf_counter() - started
call = affected if sys.argv[2] == "affected" else match
started = time.perf_counter()
call(store, int(sys.argv[3]))
print(view, time.perf_counter() - started)
"""


def first_call(db: str, name: str, item: int) -> str:
    """The view load and the first call of ``name`` in a fresh process, as text."""
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL, db, name, str(item)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return f"first call {float(out[1]) * 1000:.0f} ms (after a view load of {float(out[0]):.2f} s)"


def figures(
    name: str,
    db: str,
    call: Callable[[int], Any],
    write: Callable[[int], int],
    rounds: int,
    repeat: int,
) -> None:
    """Print first-call, warm and after-write figures of ``call`` (``write(i)`` writes
    something and returns the item to call it on: ``write(0)`` the one of the first and warm
    calls)."""
    item = write(0)
    cold = first_call(db, name, item)
    _, warm, found = timed(lambda: call(item), repeat + 1)
    after, cpu = [], []
    for i in range(1, rounds + 1):
        fresh = write(i)
        started, used = time.perf_counter(), time.process_time()
        call(fresh)
        after.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    print(
        f"{name} ({len(found)} people): {cold}; warm median "
        f"{statistics.median(warm) * 1000:.1f} ms; after a write median "
        f"{statistics.median(after) * 1000:.0f} ms (max {max(after) * 1000:.0f}; CPU median "
        f"{statistics.median(cpu) * 1000:.0f} ms) (target 100 ms); load {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--path", default="drivers/net/ice/")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--writes", type=int, default=5)
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
    proposals: list[int] = []
    propose_times: list[float] = []

    def new_proposal(text: str, affects: str) -> int:
        started = time.perf_counter()
        made = propose(store, actor, text, affects=[affects], closes=now + 86_400)
        propose_times.append(time.perf_counter() - started)
        proposals.append(made)
        return made

    files = [k for k in view.keys if k.startswith(args.path)]
    posters = [view.keys[int(i)] for i in people[np.argsort(-degree[people])][1:50]]

    def post_then_proposal(i: int) -> int:
        """A post by someone citing a file under the path (the live case: people write all
        the time), then the proposal on the path made first."""
        if not i:
            return new_proposal("Bench: rework the driver", args.path)
        post(store, posters[i % len(posters)], f"Bench note {i}", cites=[files[i % len(files)]])
        return proposals[0]

    figures(
        "affected",
        args.db,
        lambda p: affected(store, p),
        post_then_proposal,
        args.writes,
        args.repeat,
    )
    topics = [
        "help with packet checksum offload and tunnel parsing",
        "documentation of the flow rule parser",
        "memory pool allocation for mbufs",
        "vhost user crypto sessions",
        "timer library and alarms",
        "link status interrupts in the ice driver",
        "meson build options for cross compiling",
    ]
    figures(
        "match",
        args.db,
        lambda n: match(store, n),
        lambda i: need(store, actor, topics[i % len(topics)] + (f" ({i})" if i >= 7 else "")),
        args.writes,
        args.repeat,
    )
    for i in range(args.writes):
        new_proposal(f"Bench: rework the driver, take {i}", args.path)
    print(
        f"propose (writes the proposal, computes who it affects and keeps them): median "
        f"{statistics.median(propose_times[1:]) * 1000:.0f} ms; load {os.getloadavg()[0]:.2f}"
    )
    took, _, result = timed(lambda: participation(store))
    old, _, _ = timed(lambda: [affected(store, p) for p in proposals])
    print(
        f"participation over {len(proposals)} proposals ({len(result['people'])} people): "
        f"{took * 1000:.0f} ms; baseline (affected recomputed per proposal) "
        f"{old * 1000:.0f} ms; load {os.getloadavg()[0]:.2f}"
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
        answer = who_knows(store, target, limit=1000, evidence=0)  # a rank, not evidence
        seen = outsider in [e.key for e in answer.experts]
    elapsed = time.perf_counter() - started
    print(
        f"post -> visible in who-knows: {elapsed * 1000:.0f} ms (write {written * 1000:.0f} ms; "
        f"seen: {seen}; target 1000 ms); "
        f"load {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
