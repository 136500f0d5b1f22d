"""Each source on a real public export: read, ingested, rejected, duplicates and time.

Nothing is downloaded here; give the paths (the Knotwork session fetched the sources with its
mirror tool, as bare git repositories)::

    python bench/real_exports.py slack DIR_OR_ZIP
    python bench/real_exports.py public-inbox GIT_DIR OUT.mbox [--limit N]   # convert, then ingest
    python bench/real_exports.py mbox FILE [FILE ...]
    python bench/real_exports.py perceval-git REPO OUT.jsonl [--from-date DATE]  # run, then ingest
    python bench/real_exports.py perceval FILE
    python bench/real_exports.py perceval-json FILE.json [...] [--out DIR]  # convert, then ingest
    python bench/real_exports.py mattermost FILE

``public-inbox`` converts a public-inbox v2 archive (one message per commit, in the file ``m``
of its tree, as the ``linux-mailinglist-archives`` mirrors hold them) to one mboxrd file, the
oldest message first, then ingests it. ``perceval-git`` runs Perceval's git backend on a local
repository (its Python API with ``no_update``, as ``perceval git --json-line`` would without
fetching from the origin first), then ingests its output. ``perceval-json`` converts files of
Perceval items written as a JSON array or as concatenated objects (Perceval without
``--json-line``, as GrimoireLab-ELK keeps its test data) to JSON lines, each item as
``--json-line`` writes it, into ``--out`` (a temporary folder by default), then ingests each
file and tells its items' categories; an item of a backend or category the source does not
read is counted as skipped. Each ingest goes into a fresh SQLite file; the figures are printed
with the machine's load average: how far to trust the time.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from knotwork.ingest.base import Source
from knotwork.ingest.mattermost import MattermostSource
from knotwork.ingest.mbox import MboxSource
from knotwork.ingest.perceval import PercevalSource
from knotwork.ingest.slack import SlackSource
from knotwork.store.engine import Store
from knotwork.store.writer import ingest

_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)


def measure(label: str, source: Source) -> None:
    """Ingest ``source`` into a fresh SQLite file; print the report's figures."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/real.db")
        started = time.perf_counter()
        report = ingest(store, source)
        seconds = time.perf_counter() - started
        store.close()
    rate = report.read / seconds if seconds else 0.0
    print(
        f"{label}: read {report.read:,}, ingested {report.ingested:,}, rejected "
        f"{report.rejected:,}, duplicates {report.duplicates:,}, defects {report.defects:,}; "
        f"{seconds:.2f} s ({rate:,.0f} records/s); balanced {report.balanced}; "
        f"load average {load:.2f} at the start"
    )
    reasons: dict[str, int] = {}
    for rejection in report.rejections:
        reason = re.sub(r"\d+", "N", rejection.reason)[:90]
        reasons[reason] = reasons.get(reason, 0) + 1
    skipped = sum(1 for r in report.rejections if r.reason.endswith("is not supported"))
    if skipped:
        print(f"  of the rejected, skipped {skipped:,} (a backend or category not read)")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1])[:8]:
        print(f"  rejected {count:,}x: {reason}")


def public_inbox_to_mbox(git_dir: Path, out: Path, limit: int | None) -> int:
    """Write the messages of a public-inbox v2 epoch to ``out`` as mboxrd; return the count."""
    revs = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-list", "--reverse", "HEAD"],
        capture_output=True,
        check=True,
    ).stdout.split()
    if limit is not None:
        revs = revs[:limit]
    request = b"".join(rev + b":m\n" for rev in revs)
    blobs = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        input=request,
        capture_output=True,
        check=True,
    ).stdout
    count, position = 0, 0
    with out.open("wb") as mbox:
        while position < len(blobs):
            end = blobs.index(b"\n", position)
            header = blobs[position:end].split()
            position = end + 1
            if len(header) < 3 or header[1] != b"blob":  # "<rev>:m missing"
                continue
            size = int(header[2])
            message = blobs[position : position + size]
            position += size + 1
            mbox.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n")
            mbox.write(_FROM_LINE.sub(rb">\1", message.replace(b"\r\n", b"\n")))
            mbox.write(b"\n" if message.endswith(b"\n") else b"\n\n")
            count += 1
    return count


def perceval_json_lines(path: Path, out: Path) -> dict[str, int]:
    """Write the Perceval items of ``path`` (a JSON array of items, or items one after another)
    to ``out``, one a line as ``perceval --json-line`` writes them; return the count of each
    ``backend/category`` (``-`` where an item has no category)."""
    import json

    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    counts: dict[str, int] = {}
    position = 0
    with out.open("w", encoding="utf-8") as stream:
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            if position >= len(text):
                break
            value, position = decoder.raw_decode(text, position)
            for item in value if isinstance(value, list) else [value]:
                stream.write(json.dumps(item, separators=(",", ":"), sort_keys=True) + "\n")
                known = item if isinstance(item, dict) else {}
                kind = f"{known.get('backend_name', '-')}/{known.get('category', '-')}"
                counts[kind] = counts.get(kind, 0) + 1
    return counts


def perceval_git(repo: Path, out: Path, from_date: str) -> int:
    """Perceval's git backend on the local ``repo`` (``no_update``: the command line would fetch
    from its origin first), each item written as ``--json-line`` does; return the count."""
    import json
    from datetime import UTC, datetime

    from perceval.backends.core.git import Git

    since = datetime.fromisoformat(from_date).replace(tzinfo=UTC)
    count = 0
    with out.open("w", encoding="utf-8") as stream:
        for item in Git(uri=str(repo), gitpath=str(repo)).fetch(from_date=since, no_update=True):
            stream.write(json.dumps(item) + "\n")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("slack").add_argument("path", type=Path)
    inbox = commands.add_parser("public-inbox")
    inbox.add_argument("git_dir", type=Path)
    inbox.add_argument("out", type=Path)
    inbox.add_argument("--limit", type=int, default=None)
    commands.add_parser("mbox").add_argument("paths", type=Path, nargs="+")
    run = commands.add_parser("perceval-git")
    run.add_argument("repo", type=Path)
    run.add_argument("out", type=Path)
    run.add_argument("--from-date", default="2024-01-01")
    commands.add_parser("perceval").add_argument("path", type=Path)
    convert = commands.add_parser("perceval-json")
    convert.add_argument("paths", type=Path, nargs="+")
    convert.add_argument("--out", type=Path, default=None)
    commands.add_parser("mattermost").add_argument("path", type=Path)
    args = parser.parse_args(argv)

    if args.command == "slack":
        measure(f"slack {args.path}", SlackSource(args.path))
    elif args.command == "public-inbox":
        started = time.perf_counter()
        count = public_inbox_to_mbox(args.git_dir, args.out, args.limit)
        size = args.out.stat().st_size / 1e6
        seconds = time.perf_counter() - started
        print(f"converted {count:,} messages ({size:.1f} MB) in {seconds:.1f} s")
        measure(f"mbox {args.out}", MboxSource([args.out]))
    elif args.command == "mbox":
        measure(f"mbox {len(args.paths)} file(s)", MboxSource(args.paths))
    elif args.command == "perceval-git":
        started = time.perf_counter()
        lines = perceval_git(args.repo, args.out, args.from_date)
        print(f"perceval wrote {lines:,} items in {time.perf_counter() - started:.1f} s")
        measure(f"perceval {args.out}", PercevalSource(args.out))
    elif args.command == "perceval":
        measure(f"perceval {args.path}", PercevalSource(args.path))
    elif args.command == "perceval-json":
        out = args.out or Path(tempfile.mkdtemp(prefix="perceval-json-"))
        out.mkdir(parents=True, exist_ok=True)
        for path in args.paths:
            converted = out / f"{path.stem}.jsonl"
            counts = perceval_json_lines(path, converted)
            kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(counts.items()))
            print(f"{path.name} -> {converted}: {kinds}")
            measure(f"perceval {converted.name}", PercevalSource(converted))
    else:
        measure(f"mattermost {args.path}", MattermostSource(args.path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
