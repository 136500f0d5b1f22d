"""The Slack source: a workspace export (the ``.zip`` Slack writes, or that folder unpacked).

An export holds ``users.json``, ``channels.json`` (and, in exports that include them,
``groups.json`` for private channels, ``mpims.json`` and ``dms.json`` for conversations), and one
folder per conversation with a file per day, ``<folder>/<YYYY-MM-DD>.json``, each a JSON list
of messages. What each message becomes is told in :mod:`knotwork.ingest.slack_parse`.

Records, in order: the workspace (a group; every user a ``member_of`` it; ``users.json`` is
its native record), one per conversation (a group with ``member_of`` links from its members),
then one per message. A malformed entry is rejected with its place
(``<export>/<folder>/<day>.json#<n>``, ``n`` counting from 1) and the rest is read; a day file
that is not a JSON list is one rejection. A ``users.json`` or ``channels.json`` that cannot be
read at all stops the ingest with an :class:`~knotwork.errors.InputError` naming the file: the
ids of everything else depend on them.

Ids are stable from the team id (the ``team_id`` of the users; without one, the smallest
conversation id): re-ingesting the export, or a later export of the same workspace, changes
nothing already stored. The cursor records, per conversation folder, the last day file done:
an interrupted ingest resumes after it, and a later export is read from the following day on.

>>> import tempfile
>>> SlackSource(tempfile.mkdtemp())
Traceback (most recent call last):
...
knotwork.errors.InputError: ...: not a Slack export (no users.json or channels.json)
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knotwork.errors import InputError
from knotwork.ingest.base import Batch, Cursor
from knotwork.ingest.chat import prefetched
from knotwork.ingest.slack_parse import BadEntry, SlackParser
from knotwork.model import Record, Rejection

__all__ = ["SlackSource"]

_DAY = re.compile(r"^(.+)/(\d{4}-\d{2}-\d{2})\.json$")
#: Conversation lists: file name and whether its conversations are private.
_LISTS = (("channels.json", False), ("groups.json", True), ("mpims.json", True), ("dms.json", True))


class _Export:
    """The files of an export, in a zip archive or a folder, relative to its root."""

    def __init__(self, path: Path) -> None:
        self.zip: zipfile.ZipFile | None = None
        if path.is_file():
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise InputError(f"not a zip archive ({exc})", place=str(path)) from None
            names = [n for n in self.zip.namelist() if not n.endswith("/")]
        else:
            names = [p.relative_to(path).as_posix() for p in path.rglob("*.json") if p.is_file()]
        self.path = path
        roots = [
            n[: -len(m)]
            for n in names
            for m in ("users.json", "channels.json")
            if n == m or n.endswith("/" + m)
        ]
        if not roots:
            raise InputError("not a Slack export (no users.json or channels.json)", place=str(path))
        self.prefix = min(roots, key=len)
        self.names = sorted(n[len(self.prefix) :] for n in names if n.startswith(self.prefix))

    def read(self, name: str) -> bytes:
        full = self.prefix + name
        try:
            if self.zip is not None:
                return self.zip.read(full)
            return (self.path / full).read_bytes()
        except (OSError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise InputError(f"cannot be read ({exc})", place=self.place(name)) from None

    def place(self, name: str) -> str:
        return f"{self.path}/{self.prefix}{name}"

    def days(self) -> dict[str, list[str]]:
        """Day files by conversation folder, both sorted."""
        found: dict[str, list[str]] = {}
        for name in self.names:
            match = _DAY.match(name)
            if match is not None:
                found.setdefault(match.group(1), []).append(match.group(2))
        return found


def _load(data: bytes, place: str) -> Any:
    """The JSON value of ``data``; raises ValueError naming the line and column."""
    try:
        return json.loads(data.decode("utf-8-sig", errors="strict"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"invalid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


class SlackSource:
    """A Slack workspace export at ``path`` (zip or folder); ``batch_size`` messages a batch;
    ``prefetch`` parses in a worker thread, a batch ahead of the store."""

    kind = "slack"

    def __init__(self, path: str | Path, *, batch_size: int = 5000, prefetch: bool = False) -> None:
        given = Path(path).expanduser()
        if not given.exists():
            raise InputError("no such file or folder", place=str(path))
        self.path = given.resolve()
        self.location = str(self.path)
        self.batch_size = max(1, batch_size)
        self.prefetch = prefetch
        self.export = _Export(self.path)
        self.rejections: list[Rejection] = []
        self.version = hashlib.blake2b(digest_size=8)
        users = self._list("users.json")
        conversations = [(name, private, self._list(name)) for name, private in _LISTS]
        meta = self.version.hexdigest()
        teams = Counter(
            u["team_id"] for u in users if isinstance(u, dict) and isinstance(u.get("team_id"), str)
        )
        ids = [
            c["id"]
            for _, _, entries in conversations
            for c in entries
            if isinstance(c, dict) and isinstance(c.get("id"), str)
        ]
        if teams:
            self.team = teams.most_common(1)[0][0]
        elif ids:
            self.team = min(ids)
        else:
            raise InputError(
                "no team id: no user with a team_id and no channel with an id", place=self.location
            )
        self.name = f"slack:{self.team}"
        self.parser = SlackParser(self.team)
        for number, entry in enumerate(users, start=1):
            try:
                self.parser.user(entry)
            except BadEntry as exc:
                self.rejections.append(
                    Rejection(f"{self.export.place('users.json')}#{number}", str(exc))
                )
        self.meta = meta
        self.workspace = self.parser.workspace_record(self.export.place("users.json"), meta)
        self.channels: list[Record] = []
        self.folders: dict[str, str] = {}  # folder name -> conversation id
        for name, private, entries in conversations:
            for number, entry in enumerate(entries, start=1):
                place = f"{self.export.place(name)}#{number}"
                try:
                    native, folder, record = self.parser.channel(entry, place, private)
                except BadEntry as exc:
                    self.rejections.append(Rejection(place, str(exc)))
                    continue
                self.channels.append(record)
                self.folders[folder] = native
                self.folders.setdefault(native, native)

    def _list(self, name: str) -> list[Any]:
        if name not in self.export.names:
            return []
        place = self.export.place(name)
        data = self.export.read(name)
        self.version.update(name.encode() + b"\0" + data)
        try:
            value = _load(data, place)
        except ValueError as exc:
            raise InputError(str(exc), place=place) from None
        if not isinstance(value, list):
            raise InputError(f"not a JSON list but {type(value).__name__}", place=place)
        return value

    def batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """The workspace and conversations (first run), then messages by folder and day. Parsed
        by a worker thread, a batch ahead of the store."""
        return prefetched(self._batches(cursor)) if self.prefetch else self._batches(cursor)

    def _batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        cursor = dict(cursor or {})
        done: dict[str, str] = dict(cursor.get("days", {}))
        records: list[Record] = []
        rejections: list[Rejection] = []
        if cursor.get("meta") != self.meta:
            records = [self.workspace, *self.channels]
            rejections = list(self.rejections)
        state: Cursor = {"meta": self.meta, "days": done}
        for folder, days in sorted(self.export.days().items()):
            channel = self.folders.get(folder)
            if channel is None:
                channel = folder
            self.parser.roots.clear()
            for day in days:
                if day <= done.get(folder, ""):
                    continue
                self._day(folder, channel, day, records, rejections)
                done[folder] = day
                if len(records) + len(rejections) >= self.batch_size:
                    yield Batch(records, rejections, {**state, "days": dict(done)})
                    records, rejections = [], []
        yield Batch(records, rejections, {**state, "days": dict(done)})

    def _day(
        self,
        folder: str,
        channel: str,
        day: str,
        records: list[Record],
        rejections: list[Rejection],
    ) -> None:
        name = f"{folder}/{day}.json"
        place = self.export.place(name)
        try:
            entries = _load(self.export.read(name), place)
        except ValueError as exc:
            rejections.append(Rejection(place, str(exc)))
            return
        except InputError as exc:
            rejections.append(Rejection(place, exc.reason))
            return
        if not isinstance(entries, list):
            rejections.append(Rejection(place, f"not a JSON list but {type(entries).__name__}"))
            return
        edits = self.parser.edits(entries)
        deleted = self.parser.deletions(entries)
        message = self.parser.message
        for number, entry in enumerate(entries, start=1):
            where = f"{place}#{number}"
            try:
                records.append(message(channel, folder, where, entry, edits, deleted))
            except BadEntry as exc:
                rejections.append(Rejection(where, str(exc)))
