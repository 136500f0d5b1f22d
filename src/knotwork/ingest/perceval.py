"""The Perceval source: JSON lines written by GrimoireLab Perceval (``perceval ... --json-line``).

Each non-blank line is one item, one native record placed ``<file>:<line>``; what it becomes is
told in :mod:`knotwork.ingest.perceval_parse`; the lines are read by
:func:`knotwork.ingest.jsonlines.read_lines`. A line that is not JSON (a truncated last line),
not an object, without ``data``, or of a category this source does not read (``category 'x' of
backend 'y' is not supported``) is rejected with its line number and the reason, never raised;
the other lines are read.

The cursor is the line number and byte offset reached, with a fingerprint of the file's first
bytes: a re-run of the same file resumes where it stopped; a different file at the same path is
read from the start, its items already stored counted as duplicates.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "items.jsonl"
>>> _ = path.write_text('{"backend_name":"Jira","category":"issue","data":{}}\\n')
>>> batch = next(PercevalSource(path).batches(None))
>>> batch.read, batch.rejections[0].reason
(1, "category 'issue' of backend 'jira' is not supported")
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from knotwork.errors import InputError
from knotwork.ingest.base import Batch, Cursor
from knotwork.ingest.chat import prefetched
from knotwork.ingest.jsonlines import head, read_lines
from knotwork.ingest.perceval_parse import BadItem, PercevalParser

__all__ = ["PercevalSource"]


class PercevalSource:
    """The Perceval JSON lines file at ``path``, ``batch_size`` lines a batch; ``prefetch``
    parses in a worker thread, a batch ahead of the store."""

    kind = "perceval"

    def __init__(self, path: str | Path, *, batch_size: int = 2000, prefetch: bool = False) -> None:
        given = Path(path).expanduser()
        if not given.is_file():
            raise InputError("no such file", place=str(path))
        self.path = given.resolve()
        self.batch_size = max(1, batch_size)
        self.prefetch = prefetch
        self.location = str(self.path)
        self.name = f"perceval:{self.location}"

    def batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Batches of ``batch_size`` lines from the line after ``cursor``'s."""
        return prefetched(self._batches(cursor)) if self.prefetch else self._batches(cursor)

    def _batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        parser = PercevalParser()
        with self.path.open("rb") as stream:
            fingerprint = head(stream)
            line, offset = 0, 0
            if cursor and cursor.get("head") == fingerprint:
                line, offset = int(cursor.get("line", 0)), int(cursor.get("offset", 0))
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
