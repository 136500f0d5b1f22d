"""The JSON-lines loop the line-based sources share (Mattermost, Perceval).

:func:`read_lines` reads a binary stream line by line from a resume point, hands each non-blank
line, decoded, to a parser, and yields :class:`~knotwork.ingest.base.Batch` es of ``batch_size``
records and rejections. A line the parser refuses (it raises one of the ``bad`` exceptions), or
that is not JSON, not UTF-8 or nested too deeply, is rejected with its place ``<location>:<line>``
and the reason; a last line without a newline says it may be truncated. Each batch's cursor is
``state`` with the line number and byte offset reached, so that a re-run resumes after the
last stored line (:func:`head` fingerprints the file, so that another file at the same path
is read from the start).

>>> import io
>>> data = io.BytesIO(b'{"n": 1}\\n\\n[2]\\n{"n": 3')
>>> def parse(value, place):
...     if not isinstance(value, dict):
...         raise ValueError("not an object")
...     return None
>>> [batch] = read_lines(data, "f.jsonl", parse, (ValueError,), batch_size=10, state={})
>>> batch.read, batch.cursor
(2, {'line': 4, 'offset': 21})
>>> for rejection in batch.rejections:
...     print(rejection.place, rejection.reason)
f.jsonl:3 not an object
f.jsonl:4 invalid JSON at character 8: Expecting ',' delimiter (last line, no newline: truncated?)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from knotwork.ingest.base import Batch, Cursor
from knotwork.model import Record, Rejection

__all__ = ["HEAD_BYTES", "BadJSON", "decode", "head", "read_lines"]

#: Bytes of a file's start that fingerprint it in a cursor.
HEAD_BYTES = 4096

_TRUNCATED = " (last line, no newline: truncated?)"


class BadJSON(ValueError):
    """A line that is not a JSON value; the message is the rejection's reason."""


def head(stream: IO[bytes]) -> str:
    """A fingerprint of the first :data:`HEAD_BYTES` of ``stream``, which is then rewound.

    >>> import io
    >>> head(io.BytesIO(b"abc")) == head(io.BytesIO(b"abc")) != head(io.BytesIO(b"abd"))
    True
    """
    fingerprint = hashlib.sha256(stream.read(HEAD_BYTES)).hexdigest()[:16]
    stream.seek(0)
    return fingerprint


def decode(data: bytes) -> Any:
    """The JSON value of one line; :class:`BadJSON` with a readable reason if it is none.

    >>> decode(b'{"a": 1}')
    {'a': 1}
    >>> decode(b'{"a": ')
    Traceback (most recent call last):
    knotwork.ingest.jsonlines.BadJSON: invalid JSON at character 7: Expecting value
    """
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadJSON(f"invalid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise BadJSON(f"invalid JSON at character {exc.pos + 1}: {exc.msg}") from None
    except RecursionError:
        raise BadJSON("JSON nested too deeply") from None


def read_lines(
    stream: IO[bytes],
    location: str,
    parse: Callable[[Any, str], Record | None],
    bad: tuple[type[Exception], ...],
    *,
    batch_size: int,
    state: Cursor,
    line: int = 0,
    offset: int = 0,
) -> Iterator[Batch]:
    """Batches of the lines of ``stream`` from byte ``offset`` (line number ``line``).

    ``parse(value, place)`` turns one decoded line into a record, or None for a line that is
    read but not counted (metadata); it raises one of ``bad`` to reject the line. The last
    batch is yielded even when empty, so that the cursor of a run that read nothing new is
    stored.
    """
    stream.seek(offset)
    records: list[Record] = []
    rejections: list[Rejection] = []
    size = max(1, batch_size)
    refused: tuple[type[Exception], ...] = (BadJSON, *bad)
    for data in stream:
        line += 1
        offset += len(data)
        if not data or data.isspace():  # blank (no copy of the line made)
            continue
        place = f"{location}:{line}"
        try:
            record = parse(decode(data), place)
        except refused as exc:
            end = "" if data.endswith(b"\n") else _TRUNCATED
            rejections.append(Rejection(place, f"{exc}{end}"))
        else:
            if record is not None:
                records.append(record)
        if len(records) + len(rejections) >= size:
            yield Batch(records, rejections, {**state, "line": line, "offset": offset})
            records, rejections = [], []
    yield Batch(records, rejections, {**state, "line": line, "offset": offset})
