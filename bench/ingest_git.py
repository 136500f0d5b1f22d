"""Benchmark of the git ingest: Knotwork against raw ``git log`` and Perceval, in one run.

Run it on a large repository (``make bench`` uses the DPDK mirror)::

    python bench/ingest_git.py REPO [--postgres URL] [--perceval-commits N] [--skip PARTS]

``PARTS`` is a comma-separated list of ``second``, ``postgres``, ``perceval``, ``memory`` (e.g.
``--skip perceval,memory,postgres`` for a quick run). Every figure is measured in the same run,
on the same machine; the table goes to stdout, progress lines to stderr, and the figures to
``bench/out/ingest_git.json``. The exit status is 1 when a target is missed.

The figures, and what each ratio means:

1. **raw git log**: the wall time of the one ``git log`` over ``HEAD`` that reads what the git
   source reads, with the same options and format, its output thrown away. It is the floor:
   nothing that reads a history through ``git log`` can be faster.
2. **full ingest, SQLite**: ``Store.open`` of a fresh SQLite file, ``ingest(store,
   GitSource(REPO))``, ``close``. *ratio to raw git log* = (2) / (1), target <= 1.0: parsing and
   storing must hide behind git's own work (the source runs git processes in parallel).
   Also reported: commits per second, and the CPU seconds of the Python process (parse and
   write) and of its git processes, to tell which side is the bottleneck.
3. **second ingest** of the unchanged repository into the same store. *ratio to first* =
   (3) / (2), target <= 0.05: a re-run costs almost nothing. The graph digest must not change.
4. **full ingest, PostgreSQL** into a fresh schema (dropped afterwards). *ratio to raw git log*
   = (4) / (1), target <= 2.5. Its digest must equal the SQLite one.
5. **Perceval** (GrimoireLab), its git backend's own ``fetch`` (its ``git log`` and its parser)
   on the same repository, limited with its documented ``from_date`` and ``branches`` options to
   the commits of ``HEAD``'s branch since the date of the N-th newest commit
   (``--perceval-commits``, default 3,000; 0 runs it on the whole history). Compared by rate:
   *speed-up* = Knotwork's commits/s in (2) / Perceval's commits/s, target >= 25. For
   reference, Knotwork is also timed on that same window (info only).
6. **peak memory** of a full ingest of a synthetic repository of 100,000 commits (built once
   with ``git fast-import`` by ``bench/synthetic_repo.py`` and cached in ``bench/out``), run in
   a child process: the larger of its own peak RSS and that of the git processes it ran, target
   <= 1 GB. Also its time and rate.

A repository whose history lacks objects (a partial clone, e.g. a mirror made with a blob size
filter) makes every full ``git log --numstat`` fail. The benchmark then measures a copy of it in
``bench/out`` (the same packs, hard-linked) where each missing blob reads as an empty blob
through ``refs/replace``; the output says so and names how many objects were missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_git_compare import (
    OUT,
    cpu_seconds,
    cpu_used,
    git,
    measure_git_log,
    measure_memory,
    measure_perceval,
    missing_objects,
    perceval_options,
    postgres_admin,
    repaired_copy,
    say,
    schema_url,
    warm_cache,
)

PARTS = ("second", "postgres", "perceval", "memory")
GB = 1024**3


@dataclass
class Figure:
    """One measured figure; ``passed`` is None for information without a target."""

    key: str
    label: str
    value: float | None
    unit: str
    target: str = ""
    passed: bool | None = None
    note: str = ""


def progress_printer(label: str, every: float = 10.0) -> Callable[[int, int | None], None]:
    """An ingest progress callback printing a line at most every ``every`` seconds."""
    started = time.perf_counter()
    last = [started]

    def show(read: int, total: int | None) -> None:
        now = time.perf_counter()
        if now - last[0] >= every:
            last[0] = now
            of = f"/{total:,}" if total else ""
            say(f"  {label}: {read:,}{of} commits, {read / (now - started):,.0f}/s")

    return show


# -- 2-4. Knotwork --------------------------------------------------------------------------


@dataclass
class Run:
    """One timed ingest."""

    seconds: float
    read: int
    ingested: int
    rejected: int
    duplicates: int
    defects: int
    examples: list[str]
    python_cpu: float
    git_cpu: float
    other_cpu: float


def timed_ingest(url: str, repo: Path, label: str, **options: Any) -> Run:
    """Open the store at ``url``, ingest ``repo`` with the git source, close; all timed."""
    from knotwork.ingest.git import GitSource
    from knotwork.store.engine import Store
    from knotwork.store.writer import ingest

    say(f"{label}: starting")
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    store = Store.open(url)
    try:
        report = ingest(store, GitSource(str(repo), **options), progress_printer(label))
    finally:
        store.close()
    seconds = time.perf_counter() - started
    python_cpu, git_cpu, other_cpu = cpu_used(cpu_before)
    say(
        f"{label}: {report.read:,} read, {report.ingested:,} ingested in {seconds:.2f} s "
        f"(CPU: Python {python_cpu:.1f} s, git {git_cpu:.1f} s, others {other_cpu:.1f} s)"
    )
    return Run(
        seconds,
        report.read,
        report.ingested,
        report.rejected,
        report.duplicates,
        report.defects,
        [
            *report.defect_places[:3],
            *(f"rejected {r.place}: {r.reason}" for r in report.rejections[:3]),
        ],
        python_cpu,
        git_cpu,
        other_cpu,
    )


def graph_digest(url: str) -> str:
    """The digest of the store at ``url``."""
    from knotwork.store.digest import digest
    from knotwork.store.engine import Store

    store = Store.open(url, upgrade=False)
    try:
        return digest(store)
    finally:
        store.close()


# -- the report -----------------------------------------------------------------------------


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit in ("commits/s",):
        return f"{value:,.0f} {unit}"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if unit in ("x", "ratio"):
        return f"{value:,.3f}" if unit == "ratio" else f"{value:,.1f} x"
    return f"{value:,} {unit}".strip()


def table(figures: list[Figure]) -> str:
    rows = [("measure", "value", "target", "result")]
    for f in figures:
        result = "info" if f.passed is None else ("PASS" if f.passed else "FAIL")
        rows.append((f.label, fmt(f.value, f.unit), f.target or "-", result))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine(postgres: str | None) -> dict[str, Any]:
    import sqlalchemy

    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "git": git(Path("."), "--version").strip(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            info["cpu"] = next(
                (line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), ""
            )
    except OSError:
        pass
    if postgres:
        info["postgresql"] = postgres
    try:
        from importlib.metadata import version

        info["perceval"] = version("perceval")
    except Exception:
        pass
    return info


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path, help="a git repository (work tree or bare)")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="the PostgreSQL server database (a fresh schema is made and dropped)",
    )
    parser.add_argument(
        "--perceval-commits",
        type=int,
        default=3000,
        metavar="N",
        help="run Perceval on the N newest commits of HEAD's branch (0: the whole history)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="PARTS",
        help=f"comma-separated parts to leave out: {', '.join(PARTS)}",
    )
    args = parser.parse_args(argv)
    skip = {part.strip() for item in args.skip for part in item.split(",") if part.strip()}
    if unknown := skip - set(PARTS):
        parser.error(f"unknown part(s) to skip: {', '.join(sorted(unknown))}")

    OUT.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []
    notes: list[str] = []
    cpus = os.cpu_count() or 1
    load_start = os.getloadavg()[0]
    if load_start > 0.5:
        say(f"WARNING: load average {load_start:.2f} on {cpus} CPUs: other work skews timings")
    given = args.repo.resolve()
    say(f"repository {given}")
    repo = given
    missing = missing_objects(given)
    if missing:
        repo = repaired_copy(given, missing)
        notes.append(
            f"{given} lacks {len(missing)} object(s) reachable from HEAD (a partial clone), so "
            f"a full `git log --numstat` fails there; measured on {repo} (same packs, "
            "hard-linked), where they read as empty blobs through refs/replace"
        )
        say(f"NOTE: {notes[-1]}")
    head = git(repo, "rev-parse", "HEAD").strip()
    warm_cache(repo)

    # 1. raw git log
    git_seconds, git_cpu, git_others, commits = measure_git_log(repo)
    figures.append(Figure("git_log_s", "1. raw git log (HEAD), wall", git_seconds, "s"))
    figures.append(Figure("git_log_cpu_s", "   its CPU time", git_cpu, "s"))
    figures.append(
        Figure("git_log_others_cpu_s", "   CPU of other processes meanwhile", git_others, "s")
    )
    figures.append(Figure("commits", "   commits reachable from HEAD", commits, "commits"))

    workdir = Path(tempfile.mkdtemp(prefix="kw-bench-"))
    try:
        # 2. full ingest into SQLite
        sqlite_url = f"sqlite:///{workdir / 'knotwork.db'}"
        first = timed_ingest(sqlite_url, repo, "sqlite full ingest")
        rate = first.read / first.seconds
        ratio = first.seconds / git_seconds
        figures += [
            Figure("sqlite_s", "2. Knotwork full ingest, SQLite", first.seconds, "s"),
            Figure(
                "sqlite_vs_git", "   ratio to raw git log", ratio, "ratio", "<= 1.0", ratio <= 1.0
            ),
            Figure("sqlite_rate", "   rate", rate, "commits/s"),
            Figure(
                "sqlite_python_cpu_s", "   CPU time, Python (parse + write)", first.python_cpu, "s"
            ),
            Figure("sqlite_git_cpu_s", "   CPU time, its git processes", first.git_cpu, "s"),
            Figure(
                "sqlite_others_cpu_s", "   CPU of other processes meanwhile", first.other_cpu, "s"
            ),
            Figure(
                "sqlite_read",
                "   read = ingested (+ rejected)",
                first.read,
                "commits",
                f"= {commits:,}",
                first.read == commits and first.ingested + first.rejected == first.read,
                f"ingested {first.ingested:,}, rejected {first.rejected:,}, "
                f"defects {first.defects:,}",
            ),
        ]
        notes += [f"example defect or rejection: {example}" for example in first.examples]
        say("digest of the SQLite store")
        sqlite_digest = graph_digest(sqlite_url)
        say(f"digest {sqlite_digest}")
        notes.append(f"SQLite digest {sqlite_digest}")

        # 3. second ingest
        if "second" not in skip:
            second = timed_ingest(sqlite_url, repo, "sqlite second ingest")
            again = graph_digest(sqlite_url)
            ratio = second.seconds / first.seconds
            figures += [
                Figure("second_s", "3. second ingest (unchanged repo)", second.seconds, "s"),
                Figure(
                    "second_vs_first",
                    "   ratio to first ingest",
                    ratio,
                    "ratio",
                    "<= 0.05",
                    ratio <= 0.05,
                ),
                Figure(
                    "second_digest",
                    "   digest unchanged, nothing read",
                    second.read,
                    "read",
                    "same, 0",
                    again == sqlite_digest and second.read == 0,
                    f"digest {again[:16]}",
                ),
            ]

        # 4. PostgreSQL
        postgres_version = None
        if "postgres" not in skip:
            schema = f"kw_bench_{uuid.uuid4().hex[:12]}"
            try:
                postgres_version = postgres_admin(args.postgres, "SHOW server_version")
                postgres_admin(args.postgres, f"CREATE SCHEMA {schema}")
            except Exception as exc:
                figures.append(
                    Figure(
                        "postgres_s",
                        "4. Knotwork full ingest, PostgreSQL",
                        None,
                        "s",
                        "<= 2.5 x git",
                        False,
                        f"no server: {exc}",
                    )
                )
                say(f"postgres: cannot reach {args.postgres}: {exc}")
            else:
                try:
                    url = schema_url(args.postgres, schema)
                    run = timed_ingest(url, repo, "postgres full ingest")
                    say("digest of the PostgreSQL store")
                    pg_digest = graph_digest(url)
                    say(f"digest {pg_digest}")
                    notes.append(f"PostgreSQL {postgres_version} digest {pg_digest}")
                finally:
                    postgres_admin(args.postgres, f"DROP SCHEMA {schema} CASCADE")
                ratio = run.seconds / git_seconds
                figures += [
                    Figure("postgres_s", "4. Knotwork full ingest, PostgreSQL", run.seconds, "s"),
                    Figure(
                        "postgres_vs_git",
                        "   ratio to raw git log",
                        ratio,
                        "ratio",
                        "<= 2.5",
                        ratio <= 2.5,
                    ),
                    Figure("postgres_rate", "   rate", run.read / run.seconds, "commits/s"),
                    Figure(
                        "postgres_others_cpu_s",
                        "   CPU of the server and others meanwhile",
                        run.other_cpu,
                        "s",
                    ),
                    Figure(
                        "postgres_digest",
                        "   digest equals SQLite's",
                        None,
                        "",
                        "equal",
                        pg_digest == sqlite_digest,
                        f"{pg_digest}",
                    ),
                ]

        # 5. Perceval
        if "perceval" not in skip:
            n = args.perceval_commits
            since = None
            if n > 0:
                stamps = git(repo, "log", f"-n{n}", "--format=%ct", "HEAD").split()
                since = datetime.fromtimestamp(int(stamps[-1]), UTC)
            branch = git(repo, "symbolic-ref", "--short", "HEAD").strip()
            p_seconds, p_count = measure_perceval(repo, since, branch)
            p_rate = p_count / p_seconds
            speedup = rate / p_rate
            what = f"{p_count:,} newest commits" if since else f"all {p_count:,} commits"
            figures += [
                Figure(
                    "perceval_s",
                    f"5. Perceval git backend, {what}",
                    p_seconds,
                    "s",
                    note=f"Git(...).fetch({perceval_options(since, branch)})",
                ),
                Figure("perceval_rate", "   Perceval rate", p_rate, "commits/s"),
                Figure(
                    "perceval_speedup",
                    "   speed-up: Knotwork rate (2) / Perceval",
                    speedup,
                    "x",
                    ">= 25 x",
                    speedup >= 25,
                ),
            ]
            if since:
                window = timed_ingest(
                    f"sqlite:///{workdir / 'window.db'}",
                    repo,
                    "sqlite ingest of the Perceval window",
                    since=since.isoformat(),
                )
                window_rate = window.read / window.seconds
                figures.append(
                    Figure(
                        "window_rate",
                        f"   Knotwork on the same window ({window.read:,} commits)",
                        window_rate,
                        "commits/s",
                        note=f"{window.seconds:.2f} s, {window_rate / p_rate:.1f} x Perceval",
                    )
                )
                notes.append(
                    f"Perceval ran on the {p_count:,} commits of {branch} since "
                    f"{since.isoformat()} (the newest {n:,}), not the whole history; the speed-up "
                    "compares rates (commits/s)"
                )

        # 6. memory
        if "memory" not in skip:
            result = measure_memory(workdir)
            peak = max(result["self_kb"], result["children_kb"]) / 1024
            figures += [
                Figure(
                    "memory_peak_mib",
                    f"6. peak RSS, {result['read']:,}-commit synthetic ingest",
                    peak,
                    "MiB",
                    "<= 1024 MiB",
                    peak * 1024 * 1024 <= GB,
                    f"python {result['self_kb'] / 1024:,.0f} MiB, "
                    f"largest git {result['children_kb'] / 1024:,.0f} MiB",
                ),
                Figure("memory_s", "   its time", result["seconds"], "s"),
                Figure(
                    "memory_rate", "   its rate", result["read"] / result["seconds"], "commits/s"
                ),
            ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    notes.append(
        f"{cpus} CPUs, load average {load_start:.2f} at the start; the git source ran {cpus} git "
        "processes at once (its default, one per CPU). 'CPU of other processes' is the machine's "
        "busy time less this benchmark's own: well above 0 means other work skewed that timing"
    )
    by_key = {f.key: f.value for f in figures}
    for key, wall in (("git_log_others_cpu_s", "git_log_s"), ("sqlite_others_cpu_s", "sqlite_s")):
        others, seconds = by_key.get(key), by_key.get(wall)
        if others and seconds and others > 0.1 * seconds:
            notes.append(
                f"WARNING: other processes used {others:.1f} CPU seconds during {wall[:-2]} "
                f"({seconds:.1f} s): the machine was not quiet, rerun for trustworthy timings"
            )
            say(notes[-1])
    print(f"Knotwork git ingest benchmark: {given} (HEAD {head[:12]}, {commits:,} commits)")
    print(table(figures))
    for figure in figures:
        if figure.note:
            print(f"  {figure.label.strip()}: {figure.note}")
    for note in notes:
        print(f"note: {note}")
    summary = {
        "repo": str(given),
        "measured_on": str(repo),
        "head": head,
        "command": shlex.join([sys.executable, *sys.argv]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(postgres_version),
        "figures": [asdict(f) for f in figures],
        "notes": notes,
    }
    (OUT / "ingest_git.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written {OUT / 'ingest_git.json'}")
    return 1 if any(f.passed is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
