"""Parsing ``git log`` output into records: one commit, its people, files and trailers.

The source (:mod:`knotwork.ingest.git`) runs ``git log`` with :data:`LOG_FORMAT` and
``--numstat``; :class:`CommitParser` turns each commit of that output into a
:class:`~knotwork.model.Record`. Fields are separated by control characters and decoded one by
one: invalid UTF-8 is replaced and noted as a defect, never fatal.

>>> parser = CommitParser(origin="r00t", location="repo")
>>> raw = (b"\\x1e" + b"\\x1f".join([b"c0ffee", b"", b"Ada", b"ada@example.org", b"Ada",
...     b"ada@example.org", b"1600000000", b"Ada", b"ada@example.org", b"Ada",
...     b"ada@example.org", b"1600000000", b"Fix the parser\\n\\nReviewed-by: Alan <al@ex.org>\\n"])
...     + b"\\x1d\\n3\\t1\\tsrc/parse.c\\n")
>>> [record] = parser.parse(raw)
>>> sorted(link.kind.value for link in record.links)
['authored', 'changed', 'reviews']
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence

from knotwork.ingest.mailmap import Mailmap
from knotwork.model import (
    Alias,
    AliasKind,
    Flag,
    Link,
    LinkKind,
    Node,
    NodeKind,
    Record,
    make_id,
)

#: ``git log --format``: fields split by US (0x1f), a commit opened by RS (0x1e), its message
#: closed by GS (0x1d), then the ``--numstat`` lines.
LOG_FORMAT = (
    "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aN%x1f%aE%x1f%at%x1f%cn%x1f%ce%x1f%cN%x1f%cE%x1f%ct%x1f%B%x1d"
)
FIELD_NAMES = (
    "sha",
    "parents",
    "author name",
    "author email",
    "author name",
    "author email",
    "author date",
    "committer name",
    "committer email",
    "committer name",
    "committer email",
    "commit date",
    "message",
)

#: Trailer keys (lowercase) and the link each gives from the named person to the commit.
TRAILERS: dict[str, LinkKind] = {
    "signed-off-by": LinkKind.HANDLES,
    "reviewed-by": LinkKind.REVIEWS,
    "acked-by": LinkKind.ACKS,
    "tested-by": LinkKind.TESTS,
    "reported-by": LinkKind.REPORTS,
    "suggested-by": LinkKind.SUGGESTS,
    "co-authored-by": LinkKind.AUTHORED,
    "co-developed-by": LinkKind.AUTHORED,
}

#: Default bot patterns, matched case-insensitively against ``name <email>``.
DEFAULT_BOT_PATTERNS: tuple[str, ...] = (
    r"\[bot\]",
    r"<(?:[^@>]*[-_.+])?(?:ro)?bots?(?:[-_.+][^@>]*)?@",
    r"<(?:no-?reply|do-?not-?reply)@",
    r"\b(?:dependabot|renovate-bot|mergify|github-actions|pre-commit-ci)\b",
)

_TRAILER_LINE = re.compile(
    r"^[ \t]*((?:signed-off|reviewed|acked|tested|reported|suggested|co-authored|co-developed)"
    r"-by)[ \t]*:(.*)$",
    re.M | re.I,
)
_IDENTITY = re.compile(r"^(.*?)\s*<([^<>\s]+@[^<>\s]+)>")
_BARE_EMAIL = re.compile(r"^<?([^<>\s]+@[^<>\s]+?)>?$")
_MIN_TIME = 631_152_000  # 1990-01-01T00:00:00Z
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f"}
_ESCAPES |= {"r": "\r", "v": "\v"}


def file_id(origin: str, path: str) -> int:
    """The id of the file ``path`` in the repository whose origin (root commit) is ``origin``."""
    return make_id("item", "file", origin, path)


def unquote(path: bytes) -> bytes:
    r"""Undo git's C-style quoting of a path (``"caf\303\251 menu.txt"``).

    >>> unquote(b'"caf\\303\\251 menu.txt"').decode()
    'café menu.txt'
    >>> unquote(b"plain/path.c")
    b'plain/path.c'
    """
    if not path.startswith(b'"') or not path.endswith(b'"'):
        return path
    text, out, i = path[1:-1].decode("latin-1"), bytearray(), 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following in "01234567" and i + 3 < len(text) + 1:
                out.append(int(text[i + 1 : i + 4], 8))
                i += 4
                continue
            out += _ESCAPES.get(following, following).encode("latin-1")
            i += 2
            continue
        out += char.encode("latin-1")
        i += 1
    return bytes(out)


class CommitParser:
    """Turns ``git log`` output of one repository into records.

    ``origin`` names the repository (its root commit), ``location`` is shown in places.
    """

    def __init__(
        self,
        origin: str,
        location: str,
        mailmap: Mailmap | None = None,
        bot_patterns: Sequence[str] | None = None,
        now: int | None = None,
    ) -> None:
        self.origin = origin
        self.location = location
        self.mailmap = mailmap or Mailmap()
        patterns = DEFAULT_BOT_PATTERNS if bot_patterns is None else tuple(bot_patterns)
        self.bots = re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None
        self.max_time = (int(time.time()) if now is None else now) + 86_400
        self._bot_cache: dict[str, bool] = {}
        self._people: dict[tuple[str, ...], tuple[Node, tuple[Alias, ...]]] = {}
        self._files: dict[str, Node] = {}

    def parse(self, output: bytes, defects: Sequence[str] = ()) -> Iterator[Record]:
        """The records of every commit in ``output``, each with ``defects`` noted."""
        for part in output.split(b"\x1e")[1:]:
            header, _, stat = part.partition(b"\x1d")
            yield self.commit(header, stat, defects)

    def _is_bot(self, name: str, email: str) -> bool:
        if self.bots is None:
            return False
        key = f"{name} <{email}>"
        known = self._bot_cache.get(key)
        if known is None:
            known = self._bot_cache[key] = self.bots.search(key) is not None
        return known

    def _decode(self, raw: Sequence[bytes], defects: list[str]) -> list[str]:
        try:
            return [b.decode() for b in raw]
        except UnicodeDecodeError:
            fields = []
            for name, value in zip(FIELD_NAMES, raw, strict=False):
                try:
                    fields.append(value.decode())
                except UnicodeDecodeError:
                    fields.append(value.decode(errors="replace"))
                    defects.append(f"invalid UTF-8 in {name}")
            return fields

    def commit(self, header: bytes, stat: bytes, noted: Sequence[str] = ()) -> Record:
        """The record of one commit: its header fields and its ``--numstat`` lines."""
        defects: list[str] = list(noted)
        raw = header.split(b"\x1f", 12)
        sha_text = raw[0].decode("ascii", "replace")
        if len(raw) != 13:
            raise ValueError(f"{self.location}@{sha_text}: unexpected git log output")
        fields = self._decode(raw, defects)
        (sha, parents, an, ae, a_name, a_email, at, cn, ce, c_name, c_email, ct, message) = fields
        author_time, commit_time = int(at or 0), int(ct or 0)
        suspect = not (_MIN_TIME <= author_time <= self.max_time) or not (
            _MIN_TIME <= commit_time <= self.max_time
        )
        link_flags = int(Flag.TIME_SUSPECT) if suspect else 0
        commit_flags = link_flags | (int(Flag.MERGE) if parents.count(" ") >= 1 else 0)
        commit_id = Node.node_id(NodeKind.COMMIT, sha)
        record = Record("git", commit_id, f"{self.location}@{sha}")
        activity = None if suspect else author_time

        author = self._person(record, a_name, a_email, (an, ae), activity)
        self._link(record, sha, LinkKind.AUTHORED, author, author_time, link_flags)
        handled = self._trailers(record, sha, message, author, commit_time, link_flags, defects)
        committer = self._person(record, c_name, c_email, (cn, ce), activity)
        if committer != author and committer not in handled:
            self._link(record, sha, LinkKind.HANDLES, committer, commit_time, link_flags)
        if stat:
            self._changes(record, sha, stat, author_time, link_flags, defects)

        attrs: dict[str, object] = {}
        if commit_flags & Flag.MERGE:
            attrs["merge"] = True
        if defects:
            attrs["defects"] = defects
            commit_flags |= Flag.DEFECT
            record.defects.extend(defects)
        subject = message.split("\n", 1)[0].strip()
        record.nodes.append(
            Node(commit_id, NodeKind.COMMIT, sha, subject, author_time, commit_flags, attrs)
        )
        record.texts[commit_id] = message.strip()
        return record

    def _person(
        self,
        record: Record,
        name: str,
        email: str,
        raw: tuple[str, str],
        activity: int | None,
    ) -> int:
        known = self._people.get((name, email, *raw))
        if known is None:
            known = self._people[(name, email, *raw)] = self._identity(name, email, raw)
        person, aliases = known
        if activity is not None:
            person = Node(person.id, person.kind, person.key, person.name, activity, person.flags)
        record.nodes.append(person)
        record.aliases.extend(aliases)
        return person.id

    def _identity(
        self, name: str, email: str, raw: tuple[str, str]
    ) -> tuple[Node, tuple[Alias, ...]]:
        """The person node (without time) and aliases of one spelling of an identity."""
        flags = int(Flag.BOT) if self._is_bot(name, email) or self._is_bot(*raw) else 0
        person = Node.person(email, name.strip(), flags)
        emails = {email.strip().lower(), raw[1].strip().lower()} - {""}
        names = {name.strip(), raw[0].strip()} - {""}
        aliases = [Alias(AliasKind.EMAIL, value, person.id) for value in sorted(emails)]
        aliases += [Alias(AliasKind.NAME, value, person.id) for value in sorted(names)]
        return person, tuple(aliases)

    def _link(
        self,
        record: Record,
        sha: str,
        kind: LinkKind,
        person: int,
        when: int,
        flags: int,
        attrs: dict[str, object] | None = None,
    ) -> None:
        link_id = make_id("link", "git", sha, kind.value, str(person))
        record.links.append(Link(link_id, person, record.key, kind, when, 1.0, flags, attrs or {}))

    def _trailers(
        self,
        record: Record,
        sha: str,
        message: str,
        author: int,
        when: int,
        flags: int,
        defects: list[str],
    ) -> set[int]:
        """Links from trailers; returns the people who handled the commit (signed off)."""
        handled: set[int] = set()
        for found in _TRAILER_LINE.finditer(message):
            kind = TRAILERS.get(found.group(1).strip().lower())
            if kind is None:
                continue
            value, line = found.group(2).strip(), found.group(0)
            number = message.count("\n", 0, found.start()) + 1
            match = _IDENTITY.match(value)
            if match is not None:
                name, email = match.group(1).strip().strip('"'), match.group(2)
            elif (bare := _BARE_EMAIL.match(value)) is not None:
                name, email = "", bare.group(1)
            else:
                defects.append(f"malformed trailer on line {number}: {line.strip()[:120]!r}")
                continue
            name, email = self.mailmap.lookup(name, email)
            person = self._person(record, name, email, (name, email), None)
            if kind is LinkKind.HANDLES:
                if person == author:
                    continue
                handled.add(person)
            if kind is LinkKind.AUTHORED:
                if person == author:
                    continue
                self._link(record, sha, kind, person, when, flags, {"role": "co-author"})
            else:
                self._link(record, sha, kind, person, when, flags)
        return handled

    def _changes(
        self,
        record: Record,
        sha: str,
        stat: bytes,
        when: int,
        flags: int,
        defects: list[str],
    ) -> None:
        for line in stat.split(b"\n"):
            if not line:
                continue
            added, tab, rest = line.partition(b"\t")
            if tab:
                deleted, _, raw_path = rest.partition(b"\t")
                attrs: dict[str, object] = (
                    {"binary": True}
                    if added == b"-"
                    else {"added": int(added), "deleted": int(deleted)}
                )
            else:  # --name-only: line counts unavailable
                raw_path, attrs = line, {}
            raw_path = unquote(raw_path)
            try:
                path = raw_path.decode()
            except UnicodeDecodeError:
                path = raw_path.decode(errors="replace")
                defects.append("invalid UTF-8 in a path")
            file = self._files.get(path)
            if file is None:
                file = self._files[path] = Node(
                    file_id(self.origin, path), NodeKind.FILE, path, path
                )
            node = file.id
            record.nodes.append(file)
            link_id = make_id("link", "git", sha, "changed", str(node))
            record.links.append(
                Link(link_id, record.key, node, LinkKind.CHANGED, when, 1.0, flags, attrs)
            )


__all__ = ["DEFAULT_BOT_PATTERNS", "LOG_FORMAT", "TRAILERS", "CommitParser", "file_id", "unquote"]
