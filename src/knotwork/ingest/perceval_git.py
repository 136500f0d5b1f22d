"""Perceval's git ``commit`` items, read as the git source reads commits.

``perceval git <repository> --json-line`` writes one item per commit; its ``data`` holds
``commit``, ``parents``, ``Author`` and ``Commit`` (``Name <email>``), ``AuthorDate`` and
``CommitDate`` (git's default date format), ``message`` (trailers such as ``Signed-off-by`` stay
in it) and ``files`` (``file``, ``added``, ``removed``, ``action``; ``newfile`` for a rename or a
copy). :class:`CommitItems` rewrites such an item into the fields ``git log`` gives the git source
and lets :class:`~knotwork.ingest.git_parse.CommitParser` build the record, so that a commit read
both ways is one commit node, with the same people, trailers (``reviews``, ``acks``, ``handles``,
...), files and link ids: ingesting both counts the second as duplicates.

What makes the two agree:

- **files** are keyed by the repository's root commit, as the git source keys them. The root is
  found by :class:`GitOrigins`: the local clone at the item's ``origin`` (Perceval's origin is
  the path given to it), else a commit without parents met earlier in the same file (Perceval
  writes the oldest commit first). Without either, files are keyed by the origin itself, and
  join no native file (:attr:`GitOrigin.exact` is false);
- **people** are mapped by the clone's ``.mailmap``, as git maps them for the git source;
- Perceval detects **renames**: the new path gets the counts; the old one a ``changed`` link
  without counts (the git source reads a rename as a delete and an add, with full counts);
- **merge commits** get no file links: Perceval lists their combined diff, the git source none.

>>> from knotwork.model import Node, NodeKind
>>> origins = GitOrigins()
>>> items = CommitItems(origins)
>>> data = {"commit": "c0ffee", "parents": [], "Author": "Ada <ada@example.org>",
...     "AuthorDate": "Tue Jan 7 10:00:00 2025 +0100", "Commit": "Ada <ada@example.org>",
...     "CommitDate": "Tue Jan 7 10:00:00 2025 +0100",
...     "message": "Fix the parser\\n\\nReviewed-by: Alan <al@example.org>",
...     "files": [{"file": "src/parse.c", "added": "3", "removed": "1", "action": "M"}]}
>>> record = items.commit(data, "https://example.org/repo.git", "items.jsonl:1")
>>> sorted(link.kind.value for link in record.links)
['authored', 'changed', 'reviews']
>>> record.key == Node.node_id(NodeKind.COMMIT, "c0ffee"), origins.get("https://example.org/repo.git").root
(True, 'c0ffee')
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from knotwork.ingest.chat import clean
from knotwork.ingest.git_parse import CommitParser
from knotwork.ingest.mailmap import Mailmap
from knotwork.ingest.perceval_items import BadItem, items, obj
from knotwork.model import Record

__all__ = ["CommitItems", "GitOrigin", "GitOrigins", "git_time", "split_identity"]

_DATE_FORMAT = "%a %b %d %H:%M:%S %Y %z"  # git's default: "Fri Dec 6 13:35:54 2024 -0500"
_UNSAFE = str.maketrans({"\x1f": " ", "\x1e": " ", "\x1d": " ", "\n": " ", "\r": " "})
_QUOTE = str.maketrans({"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def git_time(value: object, field: str) -> int:
    """Seconds since the epoch of a date in git's default format (or ISO 8601).

    >>> git_time("Fri Dec 6 13:35:54 2024 -0500", "AuthorDate")
    1733510154
    >>> git_time("yesterday", "AuthorDate")
    Traceback (most recent call last):
    knotwork.ingest.perceval_items.BadItem: AuthorDate is not a date: 'yesterday'
    """
    text = clean(value).strip()
    for parse in (lambda t: datetime.strptime(t, _DATE_FORMAT), datetime.fromisoformat):
        try:
            return int(parse(text).timestamp())
        except (ValueError, OverflowError):
            continue
    raise BadItem(f"{field} is not a date: {text[:40]!r}")


def split_identity(value: object) -> tuple[str, str]:
    """(name, email) of ``Name <email>`` as git writes it; the email may be empty.

    >>> split_identity("Ada Lovelace <ada@example.org>"), split_identity("Ada")
    (('Ada Lovelace', 'ada@example.org'), ('Ada', ''))
    """
    text = clean(value).translate(_UNSAFE).strip()
    left = text.rfind("<")
    if left < 0 or not text.endswith(">"):
        return text, ""
    return text[:left].strip(), text[left + 1 : -1].strip()


@dataclass(frozen=True, slots=True)
class GitOrigin:
    """What keys one repository's records: its ``root`` commit (or the origin itself when not
    ``exact``) and its ``.mailmap``."""

    root: str
    mailmap: Mailmap
    exact: bool = True


def _git(path: Path, *args: str) -> str | None:
    command = ["git", "-C", str(path), *args]
    try:
        done = subprocess.run(command, capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode(errors="replace") if done.returncode == 0 else None


class GitOrigins:
    """The :class:`GitOrigin` of each repository named by the ``origin`` of Perceval's items.

    ``clones`` maps an origin (e.g. a URL) to a local clone; an origin that is itself a local
    repository is its own clone. The git source keys files by the least root commit of
    ``HEAD``, and so does a clone; without one, the first commit without parents read from the
    origin (:meth:`learn`) is its root.
    """

    def __init__(self, clones: dict[str, str | Path] | None = None) -> None:
        self.clones = {k.rstrip("/"): Path(v) for k, v in (clones or {}).items()}
        self._known: dict[str, GitOrigin] = {}
        self._learned: dict[str, str] = {}

    def learn(self, origin: str, root: str) -> None:
        """Note that ``root``, a commit without parents, belongs to ``origin``."""
        self._learned.setdefault(origin, root)
        known = self._known.get(origin)
        if known is not None and not known.exact:
            del self._known[origin]  # it was keyed by the origin only: the root is better

    def get(self, origin: str) -> GitOrigin:
        """The origin's root and mailmap (looked up once)."""
        known = self._known.get(origin)
        if known is None:
            known = self._known[origin] = self._find(origin)
        return known

    def _find(self, origin: str) -> GitOrigin:
        clone = self.clones.get(origin)
        if clone is None and "://" not in origin and Path(origin).is_dir():
            clone = Path(origin)
        if clone is not None:
            roots = (_git(clone, "rev-list", "--max-parents=0", "HEAD") or "").split()
            if roots:
                mailmap = _git(clone, "cat-file", "blob", "HEAD:.mailmap")
                return GitOrigin(min(roots), Mailmap.parse(mailmap) if mailmap else Mailmap())
        if origin in self._learned:
            return GitOrigin(self._learned[origin], Mailmap())
        return GitOrigin(origin, Mailmap(), exact=False)


def _is_hash(text: str) -> bool:
    return text.isascii() and text.isalnum() and 4 <= len(text) <= 64


def _path(value: object) -> str:
    """A path as a ``--numstat`` line writes it (quoted when it holds a tab or a newline)."""
    path = clean(value)
    if any(c in path for c in '\t\n\r"\\'):
        return '"' + path.translate(_QUOTE) + '"'
    return path


def _count(value: object) -> str | None:
    text = clean(value) if isinstance(value, str) else str(value) if isinstance(value, int) else ""
    return text if text == "-" or text.isdigit() else None


class CommitItems:
    """Records of Perceval's git commits, one :class:`CommitParser` per repository."""

    def __init__(self, origins: GitOrigins) -> None:
        self.origins = origins
        self._parsers: dict[tuple[str, str], CommitParser] = {}

    def _parser(self, origin: str) -> CommitParser:
        found = self.origins.get(origin)
        parser = self._parsers.get((origin, found.root))
        if parser is None:
            parser = CommitParser(found.root, origin, found.mailmap)
            self._parsers[(origin, found.root)] = parser
        return parser

    def commit(self, data: dict[str, Any], origin: str, place: str) -> Record:
        """The record of one commit item, as the git source would build it."""
        sha = clean(data.get("commit")).strip()
        if not _is_hash(sha):
            raise BadItem("commit is missing or not a hash")
        parents = [p.strip() for p in items(data.get("parents")) if isinstance(p, str)]
        if not all(_is_hash(p) for p in parents):
            raise BadItem("parents is not a list of hashes")
        if not parents:
            self.origins.learn(origin, sha)
        parser = self._parser(origin)
        mailmap = parser.mailmap
        a_name, a_email = split_identity(data.get("Author"))
        c_name, c_email = split_identity(data.get("Commit") or data.get("Author"))
        if not a_name and not a_email:
            raise BadItem("Author is missing")
        author_time = git_time(data.get("AuthorDate"), "AuthorDate")
        commit_time = git_time(data.get("CommitDate") or data.get("AuthorDate"), "CommitDate")
        message = clean(data.get("message"))
        fields = [sha, " ".join(parents), a_name, a_email, *mailmap.lookup(a_name, a_email)]
        fields += [str(author_time), c_name, c_email, *mailmap.lookup(c_name, c_email)]
        fields += [str(commit_time), message]
        header = "\x1f".join(fields).encode("utf-8", "replace")
        stat = b"" if len(parents) > 1 else self._stat(data).encode("utf-8", "replace")
        record = parser.commit(header, stat)
        record.source, record.place = "perceval", place
        return record

    @staticmethod
    def _stat(data: dict[str, Any]) -> str:
        """The item's files as ``--numstat`` lines (``--name-only`` lines without counts)."""
        lines = []
        for entry in items(data.get("files")):
            entry = obj(entry)
            if not isinstance(entry.get("file"), str) or not entry["file"]:
                continue
            added, removed = _count(entry.get("added")), _count(entry.get("removed"))
            counts = f"{added}\t{removed}\t" if added and removed else ""
            renamed = entry.get("newfile")
            if isinstance(renamed, str) and renamed and renamed != entry["file"]:
                if clean(entry.get("action")).startswith("R"):
                    lines.append(_path(entry["file"]))  # the old path: no counts of its own
                lines.append(counts + _path(renamed))
            else:
                lines.append(counts + _path(entry["file"]))
        return "\n".join(lines)
