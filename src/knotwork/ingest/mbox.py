"""The mbox source: mailing-list archives and mailboxes (mboxo, mboxrd, gzipped, folders).

Each file is cut into messages by a fast splitter of its own: a message starts at a ``From``
line (the postmark) that carries a time of day (``From ada@example.org Mon Jan  1 10:00:00
2024``), so that an unescaped ``From`` at the start of a body line (mboxo) does not cut a
message in two. Body lines escaped as ``>From`` (mboxo and mboxrd) lose one ``>``. Each message
becomes one record (see :mod:`knotwork.ingest.mbox_parse`); a message without any header field
is rejected, with its file and line.

The cursor holds, per file (by absolute path), its size, mtime, a hash of its first bytes, and
the offset and line just after the last message stored: a file already read is skipped, mail
appended to a file is read from where the last run stopped, and a file rewritten otherwise is
read again (its messages count as duplicates). All mbox files share one cursor (the source name
is ``mbox``), so that each run keeps what earlier runs read from other files.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "dev.mbox").write_bytes(b"From ada@example.org Mon Jan  1 10:00:00 2024\\n"
...     b"From: Ada <ada@example.org>\\nMessage-ID: <1@ex>\\nSubject: hi\\n\\n>From here\\n")
>>> [batch] = MboxSource([folder]).batches(None)
>>> [record] = batch.records
>>> record.texts[record.key]
'hi\\n\\nFrom here'
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

from knotwork.errors import EmptySourceError, InputError
from knotwork.ingest.base import Batch, Cursor
from knotwork.ingest.mbox_parse import MessageParser
from knotwork.model import Record, Rejection

__all__ = ["MboxSource", "split_messages"]

CHUNK = 4 << 20  # bytes read at once
HEAD = 4096  # bytes hashed to recognise a file that was appended to, not rewritten
_POSTMARK = re.compile(rb"From \S+[^\n]*\d:\d\d")
_ESCAPED_FROM = re.compile(rb"\n>(>*From )")
_SUFFIXES = (".gz", ".mbox", ".mbx", ".txt", ".mail")


class _Reader:
    """A binary stream whose read errors (a corrupt or truncated gzip) end the stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.error: str | None = None

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; what was decompressed before an error is still returned."""
        if self.error is not None:
            return b""
        read1: Callable[[int], bytes] = getattr(self.stream, "read1", self.stream.read)
        parts, got = [], 0
        while got < size:
            try:
                data = read1(size - got)
            except (EOFError, OSError, zlib.error) as exc:
                self.error = str(exc) or type(exc).__name__
                break
            if not data:
                break
            parts.append(data)
            got += len(data)
        return b"".join(parts)


def _unescape(raw: bytes) -> bytes:
    """``raw`` with one ``>`` taken from each line after the first that starts with ``>``s and
    ``From `` (the first line of a message as cut is its postmark).

    A literal newline anchors the search (a ``^`` of ``re.M`` is tried at every byte).

    >>> _unescape(b"From a 1:00\\n>From a\\nx >From b\\n>>From c\\n")
    b'From a 1:00\\nFrom a\\nx >From b\\n>From c\\n'
    """
    if b">>From " in raw:  # deeper mboxrd escapes (rare): each loses one ">"
        return _ESCAPED_FROM.sub(rb"\n\1", raw)
    return raw.replace(b"\n>From ", b"\nFrom ")


def split_messages(
    read: Callable[[int], bytes], offset: int = 0, line: int = 1
) -> Iterator[tuple[int, int, bytes, bool]]:
    """(offset, line, bytes, final) of each message read by ``read(size)``, postmark included.

    ``final`` is true for the message that ends the stream.

    ``read`` must start at a message's ``From`` line (or at blank lines before the first one).

    >>> import io
    >>> data = b"From a Mon Jan  1 10:00:00 2024\\nx\\nFrom me\\n\\nFrom b Jan 2 1:00 2024\\ny\\n"
    >>> [(o, n, m[-2:], f) for o, n, m, f in split_messages(io.BytesIO(data).read)]
    [(0, 1, b'\\n\\n', False), (43, 5, b'y\\n', True)]
    """
    buf, base, scan, eof = b"", offset, 0, False
    while not eof:
        chunk = read(CHUNK)
        eof = not chunk
        buf += chunk
        if base == offset and buf[:1] in (b"\n", b"\r", b" "):
            stripped = buf.lstrip()
            line += buf[: len(buf) - len(stripped)].count(b"\n")
            base, buf = base + len(buf) - len(stripped), stripped
        start, pos = 0, scan
        while True:
            hit = buf.find(b"\nFrom ", pos)
            if hit < 0:
                pos = len(buf) - 6
                break
            end = buf.find(b"\n", hit + 1)
            if end < 0 and not eof:
                pos = hit
                break
            if _POSTMARK.match(buf, hit + 1, end if end >= 0 else len(buf)):
                message = buf[start : hit + 1]
                yield base + start, line, message, False
                line += message.count(b"\n")
                start = hit + 1
            pos = hit + 1
        buf, base, scan = buf[start:], base + start, max(0, pos - start)
    if buf.strip():
        yield base, line, buf, True


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    return cast(IO[bytes], gzip.open(path, "rb")) if magic == b"\x1f\x8b" else path.open("rb")


def _sniff(path: Path) -> str | None:
    """Why ``path`` is no mbox file, or None when it is one (or empty)."""
    try:
        with _open(path) as stream:
            head = stream.read(1024).lstrip()
    except (OSError, EOFError, zlib.error) as exc:
        return f"cannot be read: {exc}"
    if head and not head.startswith(b"From "):
        return "not an mbox file: it does not start with a 'From ' line"
    return None


def _head(path: Path, size: int = HEAD) -> tuple[str, int]:
    """A hash of the first ``size`` bytes of ``path`` (decompressed), and how many there were."""
    try:
        with _open(path) as stream:
            data = stream.read(size)
    except (OSError, EOFError, zlib.error):
        return "", 0
    return hashlib.blake2b(data, digest_size=16).hexdigest(), len(data)


def _list_name(path: Path) -> str:
    name = path.name
    while name.lower().endswith(_SUFFIXES) and "." in name:
        name = name[: name.rfind(".")]
    return name or path.name


class MboxSource:
    """mbox files (mboxo or mboxrd, plain or gzipped) and folders of them, read recursively.

    ``list_name`` names the mailing list of messages without a List-Id header (default: the
    file name without its suffixes); ``batch_size`` is the number of messages per batch;
    ``bot_patterns`` replaces the default bot patterns; ``now`` bounds trusted dates.
    """

    kind = "mbox"
    name = "mbox"

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        list_name: str | None = None,
        batch_size: int = 5000,
        bot_patterns: Sequence[str] | None = None,
        now: int | None = None,
    ) -> None:
        if not paths:
            raise InputError("no mbox file given")
        self.files: list[Path] = []
        self.skipped: list[str] = []
        for given in paths:
            path = Path(given).expanduser()
            if path.is_dir():
                found = self._folder(path)
                if not found:
                    raise EmptySourceError("no mbox file in this folder", place=str(given))
                self.files += found
            elif path.is_file():
                problem = _sniff(path)
                if problem is not None:
                    raise InputError(problem, place=str(given))
                self.files.append(path)
            else:
                raise InputError("no such file or folder", place=str(given))
        more = f" (+{len(self.files) - 1} more)" if len(self.files) > 1 else ""
        self.location = f"{self.files[0]}{more}"
        self.list_name = list_name
        self.batch_size = max(1, batch_size)
        self.bot_patterns = bot_patterns
        self.now = now

    def _folder(self, folder: Path) -> list[Path]:
        found = []
        for path in sorted(folder.rglob("*")):
            hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
            if hidden or not path.is_file():
                continue
            problem = _sniff(path) if path.stat().st_size else "empty"
            if problem is None:
                found.append(path)
            else:
                self.skipped.append(f"{path}: {problem}")
        return found

    def _resume(self, path: Path, entry: dict[str, Any] | None) -> tuple[int, int] | None:
        """Where to start reading ``path``: (offset, line), or None when it is done."""
        if not entry:
            return 0, 1
        stat = path.stat()
        if entry.get("done") and (entry.get("size"), entry.get("mtime")) == (
            stat.st_size,
            stat.st_mtime_ns,
        ):
            return None
        offset = int(entry.get("offset", 0))
        head_len = int(entry.get("head_len", 0))
        if offset <= 0 or _head(path, head_len) != (entry.get("head"), head_len):
            return 0, 1
        try:
            with _open(path) as stream:
                stream.seek(offset)
                following = stream.read(64).lstrip()
        except (OSError, EOFError, zlib.error):
            return 0, 1
        if following and not following.startswith(b"From "):
            return 0, 1
        return offset, int(entry.get("line", 1))

    def batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Batches of the messages not yet covered by ``cursor``, file by file."""
        state: dict[str, Any] = dict((cursor or {}).get("files", {}))
        parser = MessageParser(self.bot_patterns, self.now)
        records: list[Record] = []
        rejections: list[Rejection] = []
        for path in self.files:
            key = str(path.resolve())
            start = self._resume(path, state.get(key))
            if start is None or start[0]:
                self._replay(parser, path, None if start is None else start[0])
            if start is None:
                continue
            stat = path.stat()
            head, head_len = _head(path)
            entry = {"size": stat.st_size, "mtime": stat.st_mtime_ns, "head": head}
            entry |= {"head_len": head_len, "done": False}
            fallback = self.list_name or _list_name(path)
            where = f"{path}:"  # each message's place is where + its line
            end, line = start
            last: tuple[int, int, bytes] | None = None  # where the last message read starts
            with _open(path) as stream:
                if start[0]:
                    stream.seek(start[0])
                reader = _Reader(stream)
                cut = False
                for offset, first, raw, final in split_messages(reader.read, *start):
                    place = f"{where}{first}"
                    if reader.error is not None and final:
                        reason = f"the compressed file ends inside this message ({reader.error})"
                        rejections.append(Rejection(place, reason))
                        cut = True
                    else:
                        self._read(parser, raw, place, fallback, records, rejections)
                    last = offset, first, raw
                    if len(records) + len(rejections) >= self.batch_size:
                        end, line = offset + len(raw), first + raw.count(b"\n")
                        state[key] = {**entry, "offset": end, "line": line}
                        yield Batch(records, rejections, {"files": dict(state)})
                        records, rejections = [], []
                if last is not None:  # where the last message read ends
                    end, line = last[0] + len(last[2]), last[1] + last[2].count(b"\n")
                if reader.error is not None and not cut:
                    rejections.append(Rejection(f"{path}:{line}", f"unreadable: {reader.error}"))
            state[key] = {**entry, "done": True, "offset": end, "line": line}
        yield Batch(records, rejections, {"files": state})

    def _replay(self, parser: MessageParser, path: Path, stop: int | None) -> None:
        """Parse (and drop) the messages of ``path`` before byte ``stop`` (all when None), so
        that the threads they opened hold the replies read after the resume point, as in one
        uninterrupted run."""
        fallback = self.list_name or _list_name(path)
        records: list[Record] = []
        rejections: list[Rejection] = []
        with _open(path) as stream:
            reader = _Reader(stream)
            for offset, _line, raw, _final in split_messages(reader.read, 0, 1):
                if stop is not None and offset >= stop:
                    break
                self._read(parser, raw, "", fallback, records, rejections)
                records.clear()
                rejections.clear()

    @staticmethod
    def _read(
        parser: MessageParser,
        raw: bytes,
        place: str,
        fallback: str,
        records: list[Record],
        rejections: list[Rejection],
    ) -> None:
        newline = raw.find(b"\n")
        postmark = "".join(raw[:newline].decode("latin-1").split(None, 2)[2:])
        noted = () if raw.endswith(b"\n") else ("the file ends inside this message (truncated?)",)
        message = b""
        if newline >= 0:  # line ends and escapes are undone in place: the message is cut once
            if b"\r" in raw:  # found by memchr, unlike a search for b"\r\n"
                raw = raw.replace(b"\r\n", b"\n")
                newline = raw.find(b"\n")
            if b">From " in raw:
                raw = _unescape(raw)
            stop = len(raw)
            while stop > newline + 1 and raw[stop - 1] == 10:  # trailing newlines
                stop -= 1
            message = raw[newline + 1 : stop]
        try:
            record = parser.parse(message, place, fallback, postmark, noted)
        except Exception as exc:  # one unreadable message must not stop the others
            rejections.append(Rejection(place, f"unreadable message: {type(exc).__name__}: {exc}"))
            return
        if record is None:
            rejections.append(Rejection(place, "not an e-mail message: no header fields"))
            return
        records.append(record)
