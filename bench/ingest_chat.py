"""Benchmark of the chat sources: Slack export and Mattermost bulk export into SQLite.

Run it with ``python bench/ingest_chat.py [--messages N]`` (default 100,000). It writes a
synthetic Slack export (a folder: 200 users, 20 channels, a day file per channel per day, a
third of the messages thread replies, a fifth with an ``@`` mention, a fifth with reactions)
and a Mattermost bulk export of the same messages (roots with their replies) under
``bench/out/chat``, then, in the same run:

1. **parse only**: ``json.loads`` of every file or line, the floor for any reader in Python;
2. **full ingest** into a fresh SQLite file (``Store.open``, ``ingest``, ``close``), and again
   with ``prefetch=True`` (parsing in a worker thread, a batch ahead of the store).

Each figure is the best of ``--repeat`` runs (default 3), each into a fresh file; the machine's
load average is printed at the start and the end (other work slows wall time).

It prints messages per second (target >= 20,000, from the issue "Sources beyond git") and the
ratio of (2) to (1), and writes the figures to ``bench/out/ingest_chat.json``. The exit status
is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from knotwork.ingest.base import Source
from knotwork.ingest.mattermost import MattermostSource
from knotwork.ingest.slack import SlackSource
from knotwork.store.engine import Store
from knotwork.store.writer import ingest

OUT = Path(__file__).resolve().parent / "out"
TARGET = 20_000.0
WORDS = ["deploy", "review", "the", "parser", "cache", "index", "build", "fails", "again"]
WORDS += ["on", "arm", "please", "look", "at", "logs"]


def _text(rng: random.Random, users: list[str], mention: bool, slack: bool) -> str:
    words = rng.choices(WORDS, k=rng.randint(4, 18))
    if mention:
        who = rng.choice(users)
        words.insert(rng.randrange(len(words)), f"<@{who}>" if slack else f"@{who}")
    return " ".join(words)


def write_slack(root: Path, messages: int, seed: int = 7) -> int:
    """A synthetic Slack export of ``messages`` messages in folder ``root``."""
    rng = random.Random(seed)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    users = [f"U{n:08d}" for n in range(200)]
    (root / "users.json").write_text(
        json.dumps(
            [
                {
                    "id": u,
                    "team_id": "TBENCH",
                    "name": f"user{n}",
                    "profile": {"real_name": f"User {n}", "email": f"user{n}@example.org"}
                    if n % 3
                    else {"real_name": f"User {n}"},
                }
                for n, u in enumerate(users)
            ]
        )
    )
    channels = [
        {"id": f"C{c:08d}", "name": f"chan-{c}", "created": 1_600_000_000, "members": users[:50]}
        for c in range(20)
    ]
    (root / "channels.json").write_text(json.dumps(channels))
    per_day, written, day = 100, 0, 0
    while written < messages:
        for channel in channels:
            if written >= messages:
                break
            base = 1_600_000_000 + day * 86_400
            entries: list[dict[str, object]] = []
            for i in range(min(per_day, messages - written)):
                ts = f"{base + i * 60}.{i:06d}"
                entry: dict[str, object] = {
                    "type": "message",
                    "user": rng.choice(users),
                    "ts": ts,
                    "text": _text(rng, users, rng.random() < 0.2, True),
                }
                if entries and rng.random() < 0.33:
                    entry["thread_ts"] = rng.choice(entries[-10:])["ts"]
                if rng.random() < 0.2:
                    entry["reactions"] = [{"name": "+1", "users": rng.sample(users, 3)}]
                entries.append(entry)
            folder = root / str(channel["name"])
            folder.mkdir(exist_ok=True)
            date = time.strftime("%Y-%m-%d", time.gmtime(base))
            (folder / f"{date}.json").write_text(json.dumps(entries, indent=1))
            written += len(entries)
        day += 1
    return written


def write_mattermost(path: Path, messages: int, seed: int = 7) -> int:
    """A synthetic bulk export of ``messages`` messages (roots and replies) at ``path``."""
    rng = random.Random(seed)
    users = [f"user{n}" for n in range(200)]
    lines = [{"type": "version", "version": 1}, {"type": "team", "team": {"name": "bench"}}]
    lines += [
        {"type": "channel", "channel": {"team": "bench", "name": f"chan-{c}"}} for c in range(20)
    ]
    for n, user in enumerate(users):
        lines.append(
            {
                "type": "user",
                "user": {
                    "username": user,
                    "email": f"{user}@example.org",
                    "first_name": f"User {n}",
                    "teams": [{"name": "bench", "channels": [{"name": "chan-0"}]}],
                },
            }
        )
    written, when = 0, 1_600_000_000_000
    while written < messages:
        replies = []
        for _ in range(min(rng.choice((0, 0, 1, 2)), messages - written - 1)):
            when += 1000
            replies.append(
                {
                    "user": rng.choice(users),
                    "message": _text(rng, users, False, False),
                    "create_at": when,
                }
            )
        when += 1000
        post: dict[str, object] = {
            "team": "bench",
            "channel": f"chan-{rng.randrange(20)}",
            "user": rng.choice(users),
            "message": _text(rng, users, rng.random() < 0.2, False),
            "create_at": when,
            "replies": replies,
        }
        if rng.random() < 0.2:
            post["reactions"] = [
                {"user": u, "emoji_name": "+1", "create_at": when + 5} for u in rng.sample(users, 3)
            ]
        lines.append({"type": "post", "post": post})
        written += 1 + len(replies)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return written


def parse_only(paths: list[Path], lines: bool) -> float:
    started = time.perf_counter()
    for path in paths:
        if lines:
            with path.open("rb") as stream:
                for line in stream:
                    json.loads(line)
        else:
            json.loads(path.read_bytes())
    return time.perf_counter() - started


def timed_ingest(
    make_source: Callable[[bool], Source], prefetch: bool, database: Path
) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, records read) of one full ingest."""
    started, cpu = time.perf_counter(), time.process_time()
    store = Store.open(f"sqlite:///{database}")
    report = ingest(store, make_source(prefetch))
    store.close()
    assert report.balanced and not report.rejected, report.to_dict()
    return time.perf_counter() - started, time.process_time() - cpu, report.read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs (default 3)")
    args = parser.parse_args()
    start_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(f"load average {start_load:.2f} on {os.cpu_count()} CPUs at the start")
    work = OUT / "chat"
    work.mkdir(parents=True, exist_ok=True)
    slack_dir, mm_file = work / "slack", work / "mattermost.jsonl"
    figures: dict[str, object] = {"python": platform.python_version(), "machine": platform.node()}
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, count, files, lines, make in (
            (
                "slack",
                write_slack(slack_dir, args.messages),
                None,
                False,
                lambda p: SlackSource(slack_dir, prefetch=p),
            ),
            (
                "mattermost",
                write_mattermost(mm_file, args.messages),
                [mm_file],
                True,
                lambda p: MattermostSource(mm_file, prefetch=p),
            ),
        ):
            paths = files or sorted(slack_dir.rglob("*.json"))
            floor = min(parse_only(paths, lines) for _ in range(max(1, args.repeat)))
            runs = [
                timed_ingest(make, False, Path(tmp) / f"{name}-{n}.db")
                for n in range(max(1, args.repeat))
            ]
            seconds, cpu, read = min(runs)  # best wall time: the least disturbed run
            ahead = min(
                timed_ingest(make, True, Path(tmp) / f"{name}-prefetch-{n}.db")
                for n in range(max(1, args.repeat))
            )
            rate = count / seconds
            passed = rate >= TARGET
            ok = ok and passed
            figures[name] = {
                "messages": count,
                "records_read": read,
                "parse_only_s": round(floor, 3),
                "ingest_s": round(seconds, 3),
                "ingest_cpu_s": round(cpu, 3),
                "ingest_with_prefetch_s": round(ahead[0], 3),
                "repeat": args.repeat,
                "messages_per_s": round(rate),
                "messages_per_cpu_s": round(count / cpu),
                "ratio_to_parse_only": round(seconds / floor, 2),
                "target_messages_per_s": TARGET,
                "passed": passed,
            }
            print(
                f"{name:<11} {count:>8,} messages  parse-only {floor:5.2f} s"
                f"  ingest {seconds:5.2f} s"
                f" ({cpu:5.2f} s CPU)  {rate:>7,.0f} messages/s, {count / cpu:>7,.0f} per CPU s"
                f"  (target >= {TARGET:,.0f}: {'pass' if passed else 'MISS'})"
                f"  ingest/parse {seconds / floor:4.1f}x; with prefetch {ahead[0]:5.2f} s"
            )
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        figures["load_average_1m"] = round(load, 2)
        figures["cpus"] = os.cpu_count()
        print(f"load average {load:.2f} on {os.cpu_count()} CPUs (other work slows wall time)")
    (OUT / "ingest_chat.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
