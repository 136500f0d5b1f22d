"""Benchmark of the mbox ingest against merely parsing the same file with the standard library.

Run it on a generated archive (about 20,000 messages, written once to ``bench/out``) or on
your own mbox file::

    python bench/ingest_mbox.py [MBOX] [--messages N] [--repeat R]

Every figure is measured in the same run, on the same file, best of ``R`` runs (default 3):

1. **stdlib parse**: ``for message in mailbox.mbox(path)``: the standard library cuts the file
   and parses every message with :mod:`email` (compat32, its default), and each message's
   Message-ID, From, Subject, Date, In-Reply-To and References are read. Nothing is stored.
   This is the baseline of the target. For information, the same with each message's first
   text/plain part decoded to text (what an ingest needs) is timed too.
2. **source only**: ``MboxSource(path).batches(None)`` consumed: messages cut, parsed, bodies
   decoded, records built, with the garbage collector's thresholds an ingest sets. Nothing is
   stored.
3. **full ingest, SQLite**: ``Store.open`` of a fresh SQLite file, ``ingest(store,
   MboxSource(path))``, ``close``.

*ratio* = speed of (3) / speed of (1) = CPU time (1) / CPU time (3); target >= 0.5. The ratio
of (2) is printed too. CPU time of this process is used (the wall time is shown as well), so
that other work on the machine does not move the ratio; the runs are interleaved. The figures
also go to ``bench/out/ingest_mbox.json``; the exit status is 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from knotwork.ingest.mbox import MboxSource
from knotwork.store.engine import Store
from knotwork.store.writer import bulk_gc, ingest

OUT = Path(__file__).parent / "out"
TARGET = 0.5
WORDS = tuple(
    [
        "ring",
        "buffer",
        "reset",
        "queue",
        "driver",
        "patch",
        "fix",
        "leak",
        "lock",
        "race",
        "napi",
        "irq",
        "xdp",
        "page",
        "pool",
        "firmware",
        "link",
        "speed",
        "timeout",
        "mailbox",
        "vlan",
        "offload",
        "checksum",
        "review",
        "test",
        "build",
    ]
)
PATHS = [
    f"drivers/net/{d}/{f}.c" for d in ("ice", "ixgbe", "mlx5") for f in ("main", "txrx", "lib")
]


def generate(path: Path, count: int, seed: int = 5) -> None:
    """An mboxrd list archive of ``count`` messages: threads, replies, quoting, a few MIME parts."""
    rng = random.Random(seed)
    people = [(f"Dev {i:03d}", f"dev{i:03d}@example.org") for i in range(400)]
    start = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    roots: list[tuple[str, str]] = []
    with path.open("wb") as out:
        for n in range(count):
            name, email = rng.choice(people)
            when = datetime.fromtimestamp(start + n * 600 + rng.randint(0, 500), UTC)
            mid = f"{n}.{rng.randrange(1 << 30):x}@example.org"
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 200)))
            body = "\n".join(body[i : i + 72] for i in range(0, len(body), 72))
            headers = [f"From: {name} <{email}>", f"Date: {format_datetime(when)}"]
            headers += [f"Message-ID: <{mid}>", "List-Id: Bench list <bench.example.org>"]
            if roots and rng.random() < 0.7:
                root, subject = rng.choice(roots[-50:])
                headers += [f"Subject: Re: {subject}", f"In-Reply-To: <{root}>"]
                headers += [f"References: <{root}>"]
                body = "> quoted line from the parent\n>From an escaped line\n\n" + body
            else:
                subject = f"[PATCH] {rng.choice(WORDS)}: {' '.join(rng.sample(WORDS, 4))}"
                roots.append((mid, subject))
                headers.append(f"Subject: {subject}")
                body += f"\n\ndiff --git a/{rng.choice(PATHS)} b/{rng.choice(PATHS)}\n"
            if n % 10 == 0:
                headers += ["MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b"']
                body = f"--b\nContent-Type: text/plain; charset=utf-8\n\n{body}\n--b--\n"
            else:
                headers.append("Content-Type: text/plain; charset=utf-8")
            postmark = f"From {email} {when.strftime('%a %b %d %H:%M:%S %Y')}"
            out.write(f"{postmark}\n{chr(10).join(headers)}\n\n{body}\n\n".encode())


def stdlib_parse(path: Path) -> int:
    """Messages parsed by ``mailbox`` + ``email``, their main header fields read."""
    count = 0
    for message in mailbox.mbox(str(path), create=False):
        for field in ("message-id", "from", "subject", "date", "in-reply-to", "references"):
            message.get(field)
        count += 1
    return count


def stdlib_parse_body(path: Path) -> int:
    """As :func:`stdlib_parse`, and each message's first text/plain part decoded to text."""
    count = 0
    for message in mailbox.mbox(str(path), create=False):
        for field in ("message-id", "from", "subject", "date", "in-reply-to", "references"):
            message.get(field)
        for part in message.walk():
            if part.get_content_type() == "text/plain" and not part.is_multipart():
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    payload.decode(part.get_content_charset() or "utf-8", "replace")
                break
        count += 1
    return count


def source_only(path: Path) -> int:
    """Records built by the mbox source, nothing stored (with the collector thresholds that
    an ingest sets, :func:`~knotwork.store.writer.bulk_gc`, so that this is the source's share
    of an ingest)."""
    with bulk_gc():
        return sum(batch.read for batch in MboxSource([path]).batches(None))


def full_ingest(path: Path) -> int:
    """Messages read by a full ingest into a fresh SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/bench.db")
        try:
            return ingest(store, MboxSource([path])).read
        finally:
            store.close()


def measure(
    runs: dict[str, Callable[[Path], int]], path: Path, repeat: int
) -> dict[str, tuple[float, float, int]]:
    """Best (wall, CPU) seconds of ``repeat`` rounds of every run, interleaved, and its count.

    The CPU time (of this process) is what the ratio uses: it does not change when other work
    shares the machine; the wall time is printed too.
    """
    best: dict[str, tuple[float, float, int]] = {}
    for _ in range(repeat):
        for label, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            count = run(path)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            old = best.get(label)
            best[label] = (
                min(wall, old[0]) if old else wall,
                min(cpu, old[1]) if old else cpu,
                count,
            )
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mbox", nargs="?", help="an mbox file (default: a generated one)")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if options.mbox:
        path = Path(options.mbox)
    else:
        path = OUT / f"bench-{options.messages}.mbox"
        if not path.exists():
            generate(path, options.messages)
    size = path.stat().st_size
    runs: dict[str, Callable[[Path], int]] = {
        "stdlib": stdlib_parse,
        "stdlib_body": stdlib_parse_body,
        "source": source_only,
        "ingest": full_ingest,
    }
    load_start = os.getloadavg()[0]
    found = measure(runs, path, options.repeat)
    load_end = os.getloadavg()[0]
    base = found["stdlib"][1]
    ratios = {label: base / found[label][1] for label in ("source", "ingest")}
    figures = {
        "file": str(path),
        "bytes": size,
        "messages": {label: count for label, (_, _, count) in found.items()},
        "wall_seconds": {label: wall for label, (wall, _, _) in found.items()},
        "cpu_seconds": {label: cpu for label, (_, cpu, _) in found.items()},
        "ratio_source": ratios["source"],
        "ratio_ingest": ratios["ingest"],
        "ratio_ingest_vs_stdlib_body": found["stdlib_body"][1] / found["ingest"][1],
        "target": TARGET,
        "load_average_1m": [round(load_start, 2), round(load_end, 2)],
        "cpus": os.cpu_count(),
    }
    (OUT / "ingest_mbox.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"Knotwork mbox ingest benchmark: {path} ({size / 1e6:.1f} MB)")
    print(f"  {'':28} {'wall s':>7} {'CPU s':>7} {'messages':>9} {'msg/CPU s':>10}")
    for label, title in (
        ("stdlib", "stdlib mailbox+email parse"),
        ("stdlib_body", "  ... and text/plain decoded"),
        ("source", "mbox source only"),
        ("ingest", "full ingest, SQLite"),
    ):
        wall, cpu, count = found[label]
        print(f"  {title:28} {wall:7.2f} {cpu:7.2f} {count:>9,} {count / cpu:>10,.0f}")
    print(f"  ratio source/stdlib speed    {ratios['source']:.2f}")
    print(f"  ratio ingest/stdlib speed    {ratios['ingest']:.2f}   (target >= {TARGET})")
    with_body = figures["ratio_ingest_vs_stdlib_body"]
    print(f"  ratio ingest/stdlib+body     {with_body:.2f}   (info)")
    print(
        f"  load average {load_start:.2f} at the start, {load_end:.2f} at the end,"
        f" on {os.cpu_count()} CPUs (CPU-time ratios move less with load than wall times)"
    )
    return 0 if ratios["ingest"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
