"""The Mattermost source: a bulk export, JSON lines (``mmctl export create`` or ``bulk export``).

The file is the ``.jsonl`` itself, or the ``.zip`` that holds one. What each line becomes is told
in :mod:`knotwork.ingest.mattermost_parse`, the lines are read by
:func:`knotwork.ingest.jsonlines.read_lines`; each line of a counted type is one native record,
placed ``<file>:<line>``. Lines of metadata types (``version``, ``emoji``, ``scheme``, ``role``,
``bot``) are read but not counted. A line that is not JSON (a truncated last line), not an
object, of an unknown type or missing a required field is rejected with its line number and
the reason; the others are read.

The cursor is the line number and byte offset reached, with a fingerprint of the file's first
bytes: a re-run of the same file resumes where it stopped; a different file (another export at
the same path) is read from the start, its records already stored counted as duplicates.
Users read before the resume point are registered again (their lines are re-read, not
re-counted), so that posts after it find their authors' emails.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "export.jsonl"
>>> _ = path.write_text('{"type":"version","version":1}\\n{"type":"team","team":{"name":"eng"}}\\n')
>>> [batch.read for batch in MattermostSource(path).batches(None)]
[1]
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from knotwork.errors import InputError
from knotwork.ingest.base import Batch, Cursor
from knotwork.ingest.chat import prefetched
from knotwork.ingest.jsonlines import BadJSON, decode, head, read_lines
from knotwork.ingest.mattermost_parse import BadLine, MattermostParser

__all__ = ["MattermostSource"]


class MattermostSource:
    """A Mattermost bulk export at ``path``; ``site`` names the server in the keys of its nodes
    (keep it the same for every export of one server); ``batch_size`` lines a batch;
    ``prefetch`` parses in a worker thread, a batch ahead of the store."""

    kind = "mattermost"

    def __init__(
        self,
        path: str | Path,
        *,
        site: str = "default",
        batch_size: int = 5000,
        prefetch: bool = False,
    ) -> None:
        given = Path(path).expanduser()
        if not given.is_file():
            raise InputError("no such file", place=str(path))
        self.path = given.resolve()
        self.site = site
        self.batch_size = max(1, batch_size)
        self.prefetch = prefetch
        self.member: str | None = None
        if zipfile.is_zipfile(self.path):
            with zipfile.ZipFile(self.path) as archive:
                lines = [n for n in archive.namelist() if n.endswith((".jsonl", ".json"))]
            if not lines:
                raise InputError("zip archive without a .jsonl file", place=str(self.path))
            self.member = min(lines, key=lambda n: (n.count("/"), n))
        self.location = str(self.path) + (f"!{self.member}" if self.member else "")
        self.name = f"mattermost:{site}:{self.location}"

    def _open(self, stack: ExitStack) -> IO[bytes]:
        if self.member is None:
            return stack.enter_context(self.path.open("rb"))
        archive = stack.enter_context(zipfile.ZipFile(self.path))
        return stack.enter_context(archive.open(self.member))

    def batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Batches of ``batch_size`` lines from the line after ``cursor``'s. Parsed
        by a worker thread, a batch ahead of the store."""
        return prefetched(self._batches(cursor)) if self.prefetch else self._batches(cursor)

    def _batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        parser = MattermostParser(self.site)
        with ExitStack() as stack:
            stream = self._open(stack)
            fingerprint = head(stream)
            line, offset = 0, 0
            if cursor and cursor.get("head") == fingerprint and cursor.get("site") == self.site:
                line, offset = int(cursor.get("line", 0)), int(cursor.get("offset", 0))
                self._users(parser, stream, offset)
            yield from read_lines(
                stream,
                self.location,
                parser.line,
                (BadLine,),
                batch_size=self.batch_size,
                state={"head": fingerprint, "site": self.site},
                line=line,
                offset=offset,
            )

    def _users(self, parser: MattermostParser, stream: IO[bytes], offset: int) -> None:
        """Register the users of the lines before ``offset``, then seek there."""
        done = 0
        for data in stream:
            done += len(data)
            if done > offset:
                break
            if b'"user"' in data[:40]:
                try:
                    value = decode(data)
                    if isinstance(value, dict) and value.get("type") == "user":
                        parser.line(value, "")
                except (BadJSON, BadLine):
                    pass
        stream.seek(offset)
