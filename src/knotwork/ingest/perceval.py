"""The Perceval source: JSON lines written by GrimoireLab Perceval (``perceval ... --json-line``).

Each non-blank line is one item, one native record placed ``<file>:<line>``; what it becomes is
told in :mod:`knotwork.ingest.perceval_parse`; the lines are read by
:func:`knotwork.ingest.jsonlines.read_lines`. A line that is not JSON (a truncated last line),
not an object, without ``data``, or of a category this source does not read (``category 'x' of
backend 'y' is not supported``; ``backend 'y' is not supported`` for an item without a category,
as Perceval's first versions wrote them) is rejected with its line number and the reason, never
raised; the other lines are read.

The cursor is the line number and byte offset reached, with a fingerprint of the file's first
bytes: a re-run of the same file resumes where it stopped; a different file at the same path is
read from the start, its items already stored counted as duplicates. Git commits without parents
read before the resume point are read again (not counted), so that the files of later commits
are keyed by the same root commit as in one uninterrupted run.

Git ``commit`` items join the records of the git source (:mod:`knotwork.ingest.perceval_git`):
``clones`` maps an item's ``origin`` (a URL) to a local clone that tells its root commit and
``.mailmap``; an origin that is a local repository needs none. ``bot_patterns`` replaces the
patterns (the git source's by default) that flag a person as a bot, beside GitHub's ``"type":
"Bot"`` and GitLab's ``"bot": true``.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "items.jsonl"
>>> _ = path.write_text('{"backend_name":"Jira","category":"issue","data":{}}\\n')
>>> batch = next(PercevalSource(path).batches(None))
>>> batch.read, batch.rejections[0].reason
(1, "category 'issue' of backend 'jira' is not supported")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO

from knotwork.errors import InputError
from knotwork.ingest.base import Batch, Cursor
from knotwork.ingest.chat import prefetched
from knotwork.ingest.jsonlines import BadJSON, decode, head, read_lines
from knotwork.ingest.perceval_git import GitOrigins
from knotwork.ingest.perceval_parse import BadItem, PercevalParser

__all__ = ["PercevalSource"]


class PercevalSource:
    """The Perceval JSON lines file at ``path``, ``batch_size`` lines a batch; ``prefetch``
    parses in a worker thread, a batch ahead of the store."""

    kind = "perceval"

    def __init__(
        self,
        path: str | Path,
        *,
        batch_size: int = 2000,
        prefetch: bool = False,
        clones: dict[str, str | Path] | None = None,
        bot_patterns: Sequence[str] | None = None,
    ) -> None:
        given = Path(path).expanduser()
        if not given.is_file():
            raise InputError("no such file", place=str(path))
        self.path = given.resolve()
        self.batch_size = max(1, batch_size)
        self.prefetch = prefetch
        self.location = str(self.path)
        self.name = f"perceval:{self.location}"
        self.clones = dict(clones or {})
        self.bot_patterns = bot_patterns

    def batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Batches of ``batch_size`` lines from the line after ``cursor``'s."""
        return prefetched(self._batches(cursor)) if self.prefetch else self._batches(cursor)

    def _batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        parser = PercevalParser(GitOrigins(self.clones), self.bot_patterns)
        with self.path.open("rb") as stream:
            fingerprint = head(stream)
            line, offset = 0, 0
            if cursor and cursor.get("head") == fingerprint:
                line, offset = int(cursor.get("line", 0)), int(cursor.get("offset", 0))
                self._roots(parser, stream, offset)
            yield from read_lines(
                stream,
                self.location,
                parser.item,
                (BadItem,),
                batch_size=self.batch_size,
                state={"head": fingerprint},
                line=line,
                offset=offset,
            )

    @staticmethod
    def _roots(parser: PercevalParser, stream: IO[bytes], offset: int) -> None:
        """Read the git commits without parents in the lines before ``offset``, then seek there."""
        done = 0
        for data in stream:
            done += len(data)
            if done > offset:
                break
            if b'"parents":[]' in data.replace(b" ", b"") and b'"commit"' in data:
                with suppress(BadJSON, BadItem):
                    parser.item(decode(data), "")
        stream.seek(offset)
