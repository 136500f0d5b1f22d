"""The git source: a repository's history as records, read by parallel ``git log`` processes.

The commits to read are listed once (``git rev-list``), cut into chunks, and each chunk is read
by one long-lived ``git log --no-walk --stdin --numstat`` process; ``jobs`` of them run at once
while the records of finished chunks are parsed and written. Each chunk is one batch whose
cursor marks it done, so an interrupted ingest resumes at the first unfinished chunk, and a
later ingest reads only commits that are not ancestors of the tips already ingested.

A chunk whose ``git log`` fails (a corrupt or missing object) keeps the commits git wrote
whole; the commit it failed on is read again without line counts (``--name-only``, noted as a
defect) or, if that fails too, rejected with git's reason; the rest of the chunk is read by a
new ``git log``.

>>> import tempfile
>>> GitSource(tempfile.mkdtemp())
Traceback (most recent call last):
...
knotwork.errors.NotARepositoryError: ...: not a git repository
"""

from __future__ import annotations

import os
import subprocess
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from knotwork.errors import EmptySourceError, NotARepositoryError, SourceReadError
from knotwork.ingest.base import Batch, Cursor
from knotwork.ingest.git_parse import DEFAULT_BOT_PATTERNS, LOG_FORMAT, CommitParser, file_id
from knotwork.ingest.mailmap import Mailmap
from knotwork.model import Record, Rejection

__all__ = ["DEFAULT_BOT_PATTERNS", "GitSource", "file_id"]


class _GitFailed(Exception):
    def __init__(self, reason: str, output: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.output = output  # what git wrote before it failed


def _first_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("fatal", "error"))]
    return (errors or lines or ["git failed"])[0].strip()


class GitSource:
    """A git work tree or bare repository at ``path``.

    ``all_branches`` reads every branch and tag instead of HEAD; ``since`` passes through to
    git; ``jobs`` is the number of ``git log`` processes run at once (default: one per core);
    ``chunk_size`` the number of commits per batch; ``bot_patterns`` replaces the default
    regular expressions that flag bots.
    """

    kind = "git"

    def __init__(
        self,
        path: str | Path,
        *,
        all_branches: bool = False,
        since: str | None = None,
        jobs: int | None = None,
        chunk_size: int = 2500,
        bot_patterns: Sequence[str] | None = None,
    ) -> None:
        given = Path(path).expanduser()
        if not given.is_dir():
            raise NotARepositoryError("no such folder", place=str(path))
        self.path = given.resolve()
        self.all_branches = all_branches
        self.since = since
        self.jobs = max(1, jobs or os.cpu_count() or 2)
        self.chunk_size = max(1, chunk_size)
        self.bot_patterns = bot_patterns
        self.bare = False  # read before git is asked: _command needs it
        try:
            self.bare = self._text("rev-parse", "--is-bare-repository").strip() == "true"
            top = "" if self.bare else self._text("rev-parse", "--show-toplevel").strip()
        except _GitFailed as failed:
            reason = "not a git repository"
            if "dubious ownership" in failed.reason:  # git's guard, kept: say how to lift it
                reason = f"{failed.reason}; trust it with git config --global --add safe.directory"
            raise NotARepositoryError(reason, place=str(path)) from None
        self.location = top or str(self.path)
        self.target = self._tips()
        if not self.target:
            raise EmptySourceError("repository has no commits", place=self.location)
        roots = self._text("rev-list", "--max-parents=0", *self.target).split()
        self.origin = min(roots)
        self.name = f"git:{self.origin}"

    # -- running git ---------------------------------------------------------------------------

    def _command(self, *args: str) -> list[str]:
        command = ["git", "-C", str(self.path), "-c", "core.quotepath=off"]
        command += ["-c", "i18n.logOutputEncoding=UTF-8"]
        if self.bare:
            command += ["-c", "mailmap.blob=HEAD:.mailmap"]
        return command + list(args)

    def _run(self, *args: str, stdin: bytes | None = None) -> bytes:
        result = subprocess.run(self._command(*args), input=stdin, capture_output=True, check=False)
        if result.returncode != 0:
            raise _GitFailed(_first_line(result.stderr), result.stdout)
        return result.stdout

    def _text(self, *args: str) -> str:
        return self._run(*args).decode(errors="replace")

    def _tips(self) -> list[str]:
        if not self.all_branches:
            try:
                return [self._text("rev-parse", "--verify", "-q", "HEAD^{commit}").strip()]
            except _GitFailed:
                return []
        refs = self._text(
            "for-each-ref",
            "--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname)",
            "refs/heads",
            "refs/tags",
        )
        tips = set()
        for line in refs.splitlines():
            kind, sha, peeled_kind, peeled = [*line.split(), "", ""][:4]
            if kind == "commit":
                tips.add(sha)
            elif peeled_kind == "commit":
                tips.add(peeled)
        return sorted(tips)

    def _mailmap(self) -> Mailmap:
        if self.bare:
            try:
                return Mailmap.parse(self._text("cat-file", "blob", "HEAD:.mailmap"))
            except _GitFailed:
                return Mailmap()
        mailmap = Path(self.location) / ".mailmap"
        return (
            Mailmap.parse(mailmap.read_text(errors="replace")) if mailmap.is_file() else Mailmap()
        )

    def _log(self, shas: Sequence[str], *, numstat: bool = True) -> bytes:
        stat = "--numstat" if numstat else "--name-only"
        return self._run(
            "log",
            "--no-walk=unsorted",
            "--stdin",
            "--no-renames",
            stat,
            f"--format={LOG_FORMAT}",
            stdin="\n".join(shas).encode() + b"\n",
        )

    # -- planning --------------------------------------------------------------------------------

    @property
    def scope(self) -> str:
        """What a cursor's completed tips cover: the history since ``since`` (all without)."""
        return f"since={self.since or ''}"

    def _plan(self, cursor: Cursor | None) -> tuple[dict[str, object], list[str], set[int]]:
        cursor = cursor or {}
        complete: dict[str, list[str]] = cursor.get("complete", {})
        base = sorted(set(complete.get(self.scope, [])) | set(complete.get("since=", [])))
        args = ["rev-list", "--reverse", "--stdin"]
        if self.since:
            args.append(f"--since={self.since}")
        revs = "\n".join(self.target + [f"^{tip}" for tip in base]) + "\n"
        try:
            commits = self._run(*args, stdin=revs.encode()).decode().split()
        except _GitFailed as failed:
            raise SourceReadError(failed.reason, place=self.location) from None
        plan: dict[str, object] = {
            "scope": self.scope,
            "target": self.target,
            "base": base,
            "chunk_size": self.chunk_size,
            "commits": len(commits),
        }
        pending = cursor.get("pending") or {}
        done = (
            set(pending.get("done", []))
            if {**pending, "done": None}
            == {
                **plan,
                "done": None,
            }
            else set()
        )
        return plan, commits, done

    def _cursor(self, cursor: Cursor | None, plan: dict[str, object], done: set[int]) -> Cursor:
        complete = dict((cursor or {}).get("complete", {}))
        return {"complete": complete, "pending": {**plan, "done": sorted(done)}}

    def _finished(self, cursor: Cursor | None) -> Cursor:
        complete = dict((cursor or {}).get("complete", {}))
        complete[self.scope] = sorted(set(complete.get(self.scope, [])) | set(self.target))
        return {"complete": complete}

    # -- reading ---------------------------------------------------------------------------------

    def batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Batches of commits not yet covered by ``cursor``, one per chunk, in history order."""
        plan, commits, done = self._plan(cursor)
        size = self.chunk_size
        chunks = [
            (index, commits[start : start + size])
            for index, start in enumerate(range(0, len(commits), size))
            if index not in done
        ]
        total = sum(len(chunk) for _, chunk in chunks)
        if not chunks:
            yield Batch([], [], self._finished(cursor), total=total)
            return
        yield Batch([], [], self._cursor(cursor, plan, done), total=total)
        parser = CommitParser(self.origin, self.location, self._mailmap(), self.bot_patterns)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            window: deque[tuple[int, list[str], Future[bytes]]] = deque()
            queue = iter(chunks)
            for index, chunk in queue:
                window.append((index, chunk, pool.submit(self._log, chunk)))
                if len(window) > self.jobs:
                    break
            while window:
                index, chunk, future = window.popleft()
                for index_next, chunk_next in queue:
                    window.append((index_next, chunk_next, pool.submit(self._log, chunk_next)))
                    break
                records, rejections = self._read(parser, chunk, future)
                done.add(index)
                state = self._finished(cursor) if not window else self._cursor(cursor, plan, done)
                yield Batch(records, rejections, state, total=total)

    def _read(
        self, parser: CommitParser, chunk: list[str], future: Future[bytes]
    ) -> tuple[list[Record], list[Rejection]]:
        try:
            return list(parser.parse(future.result())), []
        except _GitFailed as failed:
            return self._isolate(parser, chunk, failed)

    def _isolate(
        self, parser: CommitParser, chunk: list[str], failed: _GitFailed
    ) -> tuple[list[Record], list[Rejection]]:
        """Read a chunk whose ``git log`` failed, one failing commit at a time.

        ``git log --no-walk=unsorted`` writes commits in the order given, so the commits
        written whole before the failure are kept, the commit it failed on is read again on its
        own, and the rest of the chunk goes to a new ``git log``.
        """
        records: list[Record] = []
        rejections: list[Rejection] = []
        rest = chunk
        while True:
            whole = failed.output.split(b"\x1e")[1:-1]  # the last one is where git stopped
            records.extend(parser.parse(b"".join(b"\x1e" + part for part in whole)))
            bad, rest = rest[len(whole)], rest[len(whole) + 1 :]
            try:
                output = self._log([bad], numstat=False)
                note = (f"line counts unavailable: {failed.reason}",)
                records.extend(parser.parse(output, note))
            except _GitFailed as unreadable:
                rejections.append(Rejection(f"{self.location}@{bad}", unreadable.reason))
            if not rest:
                return records, rejections
            try:
                records.extend(parser.parse(self._log(rest)))
                return records, rejections
            except _GitFailed as again:
                failed = again
