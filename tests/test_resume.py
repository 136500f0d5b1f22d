"""An ingest killed with SIGKILL at any moment, then run again, ends in exactly the graph of an
uninterrupted run (issue: idempotent, incremental, resumable)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from gitfactory import build_history, git

pytestmark = pytest.mark.slow

COMMITS = 3000
COMMAND = (sys.executable, "-m", "knotwork")


def knotwork(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args, "--db", f"sqlite:///{db}", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )


def digest_of(db: Path) -> str:
    result = knotwork("digest", db=db)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["digest"])


def commits_stored(db: Path) -> int:
    """Commits stored so far, read while an ingest may be writing (0 before the schema exists)."""
    if not db.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as connection:
            row = connection.execute("SELECT count(*) FROM nodes WHERE kind = 'commit'").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0])


def ingested_commits(db: Path) -> int:
    result = knotwork("stats", db=db)
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["nodes"].get("commit", 0))


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("history") / "repo"
    build_history(repo, COMMITS)
    return repo


@pytest.fixture(scope="module")
def reference(history: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, float]:
    db = tmp_path_factory.mktemp("reference") / "k.db"
    started = time.perf_counter()
    result = knotwork("ingest", "git", str(history), "--batch-size", "100", db=db)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["read"] == report["ingested"] == COMMITS
    return digest_of(db), elapsed


def test_killed_runs_resume_to_the_same_digest(
    history: Path, reference: tuple[str, float], tmp_path: Path
) -> None:
    expected, _ = reference
    db = tmp_path / "k.db"
    progress = []
    jitter = random.Random(5)
    # Kill the ingest four times, each once it has stored a sixth more of the history (and a
    # random few milliseconds later, so that kills also land inside a batch), resuming each time.
    for _ in range(4):
        arguments = (
            "ingest",
            "git",
            str(history),
            "--batch-size",
            "100",
            "--db",
            f"sqlite:///{db}",
        )
        target = commits_stored(db) + COMMITS // 6
        process = subprocess.Popen(
            [*COMMAND, *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if commits_stored(db) >= target:
                time.sleep(jitter.uniform(0.0, 0.05))
                break
            time.sleep(0.02)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        progress.append(ingested_commits(db))
    # Some kills must have landed mid-run, with part of the history stored.
    assert any(0 < n < COMMITS for n in progress), progress
    result = knotwork("ingest", "git", str(history), "--batch-size", "100", db=db)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["read"] == report["ingested"] + report["rejected"] + report["duplicates"]
    assert ingested_commits(db) == COMMITS
    assert digest_of(db) == expected


def test_second_run_adds_nothing_and_new_commits_are_added(
    history: Path, reference: tuple[str, float], tmp_path: Path
) -> None:
    expected, _ = reference
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(history), str(clone))
    db = tmp_path / "k.db"
    assert knotwork("ingest", "git", str(clone), db=db).returncode == 0
    again = json.loads(knotwork("ingest", "git", str(clone), db=db).stdout)
    assert again["read"] == 0 and again["ingested"] == 0
    assert digest_of(db) == expected
    (clone / "NEWS").write_text("A new file.\n")
    git(clone, "add", "NEWS")
    git(
        clone, "commit", "-q", "-m", "Add NEWS\n\nReviewed-by: Aiko Tanaka <aiko.tanaka@example.jp>"
    )
    more = json.loads(knotwork("ingest", "git", str(clone), db=db).stdout)
    assert (more["read"], more["ingested"]) == (1, 1)
    assert ingested_commits(db) == COMMITS + 1
    assert digest_of(db) != expected
