"""The Perceval source: JSON lines written by GrimoireLab Perceval (``perceval ... --json-line``).

Each non-blank line is one item, one native record placed ``<file>:<line>``; what it becomes is
told in :mod:`knotwork.ingest.perceval_parse`. A line that is not JSON (a truncated last line),
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

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knotwork.errors import InputError
from knotwork.ingest.base import Batch, Cursor
from knotwork.ingest.chat import prefetched
from knotwork.ingest.perceval_parse import BadItem, PercevalParser
from knotwork.model import Record, Rejection

__all__ = ["PercevalSource"]

_HEAD = 4096


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
            head = hashlib.sha256(stream.read(_HEAD)).hexdigest()[:16]
            line, offset = 0, 0
            if cursor and cursor.get("head") == head:
                line, offset = int(cursor.get("line", 0)), int(cursor.get("offset", 0))
            stream.seek(offset)
            state: Cursor = {"head": head}
            records: list[Record] = []
            rejections: list[Rejection] = []
            for data in stream:
                line += 1
                offset += len(data)
                if not data.strip():
                    continue
                place = f"{self.location}:{line}"
                try:
                    records.append(parser.item(_json(data), place))
                except BadItem as exc:
                    end = "" if data.endswith(b"\n") else " (last line, no newline: truncated?)"
                    rejections.append(Rejection(place, f"{exc}{end}"))
                if len(records) + len(rejections) >= self.batch_size:
                    yield Batch(records, rejections, {**state, "line": line, "offset": offset})
                    records, rejections = [], []
            yield Batch(records, rejections, {**state, "line": line, "offset": offset})


def _json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadItem(f"invalid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise BadItem(f"invalid JSON at character {exc.pos + 1}: {exc.msg}") from None
    except RecursionError:
        raise BadItem("JSON nested too deeply") from None
