"""The measurements of ``bench/ingest_git.py``: raw git log, PostgreSQL, Perceval, memory.

Split out of ``ingest_git.py`` (which imports these helpers and prints every figure); see its
docstring for what each figure means. Not run on its own.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
SYNTHETIC_COMMITS = 100_000
STARTED = time.perf_counter()


def say(message: str) -> None:
    """A progress line on stderr, with the seconds since the start."""
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def git(repo: Path, *args: str) -> str:
    """The output of ``git -C repo args`` (raises on failure)."""
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def cpu_seconds() -> tuple[float, float, float]:
    """CPU seconds used so far by this process, by its finished child processes, and by the
    whole machine (``/proc/stat``; NaN where there is none)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            user, nice, system, _idle, _iowait, irq, softirq = map(
                int, stat.readline().split()[1:8]
            )
        machine = (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        machine = float("nan")
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime, machine


def cpu_used(before: tuple[float, float, float]) -> tuple[float, float, float]:
    """CPU seconds since ``before``: this process, its children, every other process."""
    after = cpu_seconds()
    own, children = after[0] - before[0], after[1] - before[1]
    return own, children, max(0.0, after[2] - before[2] - own - children)


# -- the repository ------------------------------------------------------------------------


def missing_objects(repo: Path) -> list[str]:
    """Objects reachable from HEAD that the repository lacks."""
    listing = git(repo, "rev-list", "--objects", "--missing=print", "HEAD")
    return [line[1:] for line in listing.splitlines() if line.startswith("?")]


def repaired_copy(repo: Path, missing: list[str]) -> Path:
    """A copy of ``repo`` (packs hard-linked) where the ``missing`` blobs read as empty."""
    head = git(repo, "rev-parse", "HEAD").strip()
    copy = OUT / "repos" / f"{repo.resolve().parent.name}-{repo.name}-{head[:12]}.git"
    if (copy / "kw-bench-ready").exists():
        return copy
    shutil.rmtree(copy, ignore_errors=True)
    copy.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "--bare", str(copy)], check=True)
    objects = Path(git(repo, "rev-parse", "--git-path", "objects").strip())
    if not objects.is_absolute():
        objects = repo / objects
    for pack in sorted((objects / "pack").iterdir()):
        if pack.suffix == ".promisor":
            continue
        target = copy / "objects" / "pack" / pack.name
        try:
            os.link(pack, target)
        except OSError:
            shutil.copy2(pack, target)
    refs = git(repo, "for-each-ref", "--format=create %(refname) %(objectname)")
    subprocess.run(
        ["git", "-C", str(copy), "update-ref", "--stdin"], input=refs, text=True, check=True
    )
    branch = git(repo, "symbolic-ref", "-q", "HEAD").strip()
    git(copy, "symbolic-ref", "HEAD", branch)
    empty = subprocess.run(
        ["git", "-C", str(copy), "hash-object", "-w", "-t", "blob", "--stdin"],
        input="",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for sha in missing:
        git(copy, "update-ref", f"refs/replace/{sha}", empty)
    (copy / "kw-bench-ready").write_text("\n".join(missing) + "\n")
    return copy


def warm_cache(repo: Path) -> None:
    """Read the repository's packs once, so that no measurement pays for a cold disk."""
    objects = Path(git(repo, "rev-parse", "--git-path", "objects").strip())
    objects = objects if objects.is_absolute() else repo / objects
    for path in (objects / "pack").glob("*.pack"):
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


# -- 1. raw git log -------------------------------------------------------------------------


def git_log_command(repo: Path) -> list[str]:
    """The single ``git log`` over HEAD with the git source's options and format.

    The source reads its commits in chunks, each by ``git log --no-walk=unsorted --stdin`` fed
    with the chunk's ids. This asks the source for that command (its git configuration, its
    options, its format) and gives it ``HEAD`` instead, so that one ``git log`` reads the whole
    history as the source's processes read it together.
    """
    from knotwork.ingest.git import GitSource

    source = GitSource(str(repo))
    captured: list[str] = []

    def capture(*args: str, stdin: bytes | None = None) -> bytes:
        captured.extend(args)
        return b""

    source._run = capture  # type: ignore[method-assign]
    source._log(["HEAD"])
    chunked = ("--no-walk", "--no-walk=unsorted", "--no-walk=sorted", "--stdin")
    if "log" not in captured or not set(chunked) & set(captured):
        raise SystemExit(f"unexpected git command in the git source: {captured}")
    return source._command(*(arg for arg in captured if arg not in chunked), "HEAD")


def measure_git_log(repo: Path) -> tuple[float, float, float, int]:
    """The raw ``git log`` (output to /dev/null): its wall and CPU seconds, the CPU seconds of
    other processes meanwhile, and the number of commits."""
    command = git_log_command(repo)
    say(f"raw git log: {shlex.join(command)} > /dev/null")
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - started
    _, cpu, others = cpu_used(cpu_before)
    if done.returncode != 0:
        raise SystemExit(f"git log failed: {done.stderr.decode(errors='replace').strip()}")
    commits = int(git(repo, "rev-list", "--count", "HEAD"))
    say(
        f"raw git log: {seconds:.2f} s for {commits:,} commits "
        f"(CPU {cpu:.1f} s, others {others:.1f} s)"
    )
    return seconds, cpu, others, commits


# -- 4. PostgreSQL ----------------------------------------------------------------------------


def schema_url(url: str, schema: str) -> str:
    """``url`` with its connections' ``search_path`` set to ``schema``."""
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


def postgres_admin(url: str, statement: str) -> str:
    """Run one statement on the server at ``url``; return the first value, if any."""
    from sqlalchemy import create_engine, text

    from knotwork.store.engine import normalize_url

    engine = create_engine(normalize_url(url))
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement))
            return str(result.scalar()) if result.returns_rows else ""
    finally:
        engine.dispose()


# -- 5. Perceval ----------------------------------------------------------------------------


def measure_perceval(repo: Path, since: datetime | None, branch: str) -> tuple[float, int]:
    """Perceval's git backend ``fetch`` over ``branch`` since ``since``: (seconds, commits)."""
    from perceval.backends.core.git import Git

    backend = Git(uri=str(repo), gitpath=str(repo))
    say(f"perceval: Git(...).fetch({perceval_options(since, branch)})")
    count, started, last = 0, time.perf_counter(), time.perf_counter()
    for _item in backend.fetch(from_date=since, branches=[branch], no_update=True):
        count += 1
        if time.perf_counter() - last > 10:
            last = time.perf_counter()
            say(f"  perceval: {count:,} commits, {count / (last - started):,.1f}/s")
    seconds = time.perf_counter() - started
    say(f"perceval: {count:,} commits in {seconds:.2f} s")
    return seconds, count


def perceval_options(since: datetime | None, branch: str) -> str:
    window = f"from_date={since.isoformat()}, " if since else ""
    return f"{window}branches=[{branch!r}], no_update=True"


# -- 6. memory ------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from knotwork.ingest.git import GitSource
    from knotwork.store.engine import Store
    from knotwork.store.writer import ingest

    started = time.perf_counter()
    store = Store.open(sys.argv[2])
    report = ingest(store, GitSource(sys.argv[1]))
    store.close()
    print(json.dumps({
        "seconds": time.perf_counter() - started,
        "read": report.read,
        "ingested": report.ingested,
        "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }))
    """
)


def synthetic_repo() -> Path:
    """The cached synthetic repository of 100,000 commits (built on first use)."""
    sys.path.insert(0, str(BENCH))
    import synthetic_repo as synthetic

    path = OUT / f"synthetic-{SYNTHETIC_COMMITS}-v{synthetic.VERSION}.git"
    if not (path / "kw-bench-ready").exists():
        shutil.rmtree(path, ignore_errors=True)
        say(f"memory: building {path.name} with git fast-import (once; a few minutes)")
        synthetic.build(path, SYNTHETIC_COMMITS)
        (path / "kw-bench-ready").write_text("ok\n")
    return path


def measure_memory(workdir: Path) -> dict[str, Any]:
    """Ingest the synthetic repository in a child process; its peak RSS and time."""
    repo = synthetic_repo()
    url = f"sqlite:///{workdir / 'synthetic.db'}"
    say(f"memory: ingesting {repo.name} in a child process")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(repo), url], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the memory child failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    say(
        f"memory: {result['read']:,} commits in {result['seconds']:.1f} s, peak RSS "
        f"{result['self_kb'] / 1024:,.0f} MiB (git processes {result['children_kb'] / 1024:,.0f})"
    )
    return result
