"""One e-mail message as a record: the message, its author, thread, list, replies and mentions.

:class:`MessageParser` turns the bytes of one message (as cut out of an mbox by
:mod:`knotwork.ingest.mbox`) into a :class:`~knotwork.model.Record` whose key is the message
node, keyed by its Message-ID (or, without one, by a hash of its bytes), so that the same
message met in two archives is stored once. It remembers, for the run, each message's thread
and author, so that a reply links its author to the author of the message it answers.

>>> parser = MessageParser(now=1_700_000_000)
>>> record = parser.parse(b"From: Ada <ada@example.org>\\nMessage-ID: <1@ex>\\n"
...     b"Subject: ice: fix\\nDate: Mon, 6 Nov 2023 10:00:00 +0000\\n\\n"
...     b"See drivers/net/ice/ice.c\\n", "list.mbox:1", "list")
>>> sorted(link.kind.value for link in record.links)
['authored', 'member_of', 'member_of', 'member_of', 'mentions']
>>> [link.kind.value for link in parser.parse(b"From: Ada <ada@example.org>\\n"
...     b"Date: Mon, 6 Nov 2023 11:00:00 +0000\\n\\nSame month", "list.mbox:5", "list").links]
['authored', 'member_of', 'member_of']
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from collections.abc import Sequence
from email.utils import mktime_tz, parseaddr, parsedate_tz
from hashlib import blake2b as _blake2b
from typing import Protocol
from urllib.parse import unquote

from knotwork.ingest.git_parse import DEFAULT_BOT_PATTERNS
from knotwork.ingest.mbox_decode import HEADER_LINE, body_text, decode_words, parse_headers
from knotwork.model import Alias, AliasKind, Flag, Link, LinkKind, Node, NodeKind, Record, make_id

_MIN_TIME = 631_152_000  # 1990-01-01T00:00:00Z
MAX_TEXT = 1_000_000  # characters of body kept as item text
MAX_MENTIONS = 50  # distinct paths or message ids per message
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fwd?|aw|sv|antw|wg)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_TAG = re.compile(r"^\s*(\[[^\]]{1,40}\])\s*")
_PATH = re.compile(
    r"(?<![\w/.:@-])(?:\./)?((?:[A-Za-z0-9_][\w+-]*/)+[\w+.-]*\.[A-Za-z][A-Za-z0-9]{0,7})(?![\w/])"
)
_DIFF_PATH = re.compile(r"^(?:diff --git a/(\S+)|(?:---|\+\+\+) [ab]/(\S+))", re.M)
_MID_MENTION = re.compile(
    r"(?i)(?:message-id:?\s*<([^<>\s]+@[^<>\s]+)>"
    r"|\bmid:([^\s<>]+@[^\s<>/]+)"
    r"|https?://(?:lore\.kernel\.org|lkml\.kernel\.org|patch\.msgid\.link)/(?:r/|[\w.-]+/)?"
    r"([^\s/<>\"]+(?:@|%40)[^\s/<>\"]+))"
)
_DATE = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d\d):(\d\d)(?::(\d\d))?\s+([+-]\d{4})"
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_MID_HINTS = ("essage-", "ESSAGE-", "mid:", "MID:", "kernel.org/", "msgid.link/")
_QUOTED = re.compile(r"^[ \t]*>.*$", re.M)


def _slash_lines(text: str) -> list[str]:
    """The lines of ``text`` that hold a slash (found by the slashes, not line by line).

    >>> _slash_lines("a/b\\nno\\nx /y/ z\\nend/")
    ['a/b', 'x /y/ z', 'end/']
    """
    lines: list[str] = []
    find, rfind = text.find, text.rfind
    slash = find("/")
    while slash >= 0:
        end = find("\n", slash)
        if end < 0:
            lines.append(text[rfind("\n", 0, slash) + 1 :])
            break
        lines.append(text[rfind("\n", 0, slash) + 1 : end])
        slash = find("/", end)
    return lines


def strip_subject(subject: str) -> str:
    """The subject without reply/forward prefixes (also after a leading ``[list]`` tag).

    >>> strip_subject("Re: [netdev] Fwd: RE: ice: fix  the  leak")
    '[netdev] ice: fix the leak'
    """
    if ":" not in subject:
        return " ".join(subject.split())
    text = _REPLY_PREFIX.sub("", subject)
    tag = _TAG.match(text)
    if tag is not None:
        text = tag.group(1) + " " + _REPLY_PREFIX.sub("", text[tag.end() :])
    return " ".join(text.split())


def list_key(fields: dict[str, str]) -> tuple[str, str] | None:
    """The mailing list of a message as (id, name), from List-Id, X-Mailing-List or List-Post.

    >>> list_key({"list-id": "Netdev <netdev.vger.kernel.org>"})
    ('netdev.vger.kernel.org', 'Netdev')
    >>> list_key({"list-post": "<mailto:dev@lists.example.org>"})
    ('dev.lists.example.org', 'dev@lists.example.org')
    """
    value = fields.get("list-id", "")
    found = _ANGLE_ID.search(value)
    if found is not None:
        name = value[: found.start()].strip().strip('"')
        return found.group(1).lower(), name or found.group(1).lower()
    for field in ("x-mailing-list", "list-post"):
        address = parseaddr(fields.get(field, "").replace("mailto:", ""))[1].lower()
        if "@" in address:
            return address.replace("@", "."), address
    return None


def message_ids(value: str) -> list[str]:
    """The message ids (without angle brackets) in a References or In-Reply-To field.

    >>> message_ids("<a@x> junk <b@y>")
    ['a@x', 'b@y']
    """
    return _ANGLE_ID.findall(value)


class MessageParser:
    """Turns raw messages into records, remembering threads and authors for one run.

    ``now`` (seconds) bounds trusted dates; ``bot_patterns`` replaces the default patterns.
    """

    def __init__(self, bot_patterns: Sequence[str] | None = None, now: int | None = None) -> None:
        patterns = DEFAULT_BOT_PATTERNS if bot_patterns is None else tuple(bot_patterns)
        self.bots = re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None
        self.max_time = (int(time.time()) if now is None else now) + 86_400
        self.thread_of: dict[str, str] = {}
        self.author_of: dict[str, int] = {}
        self.subjects: dict[tuple[str, str], str] = {}
        self.waiting: dict[str, list[tuple[str, int, int | None]]] = {}
        self._people: dict[tuple[str, str], tuple[Node, tuple[Alias, ...]]] = {}
        self._authors: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        self._ids: dict[tuple[str, str], int] = {}
        self._members: set[tuple[int, int, str]] = set()
        self._lists: dict[tuple[str | None, ...], tuple[str, str] | None] = {}
        self._months: dict[int, str] = {}
        self._stripped: dict[str, str] = {}
        self._days: dict[tuple[str, str, str, str], int] = {}
        self._files: dict[str, Node] = {}

    # -- identities ------------------------------------------------------------------------------

    def _identity(self, name: str, email: str) -> tuple[Node, tuple[Alias, ...]]:
        known = self._people.get((name, email))
        if known is None:
            label = f"{name} <{email}>"
            bot = self.bots is not None and self.bots.search(label) is not None
            person = Node.person(email, name, int(Flag.BOT) if bot else 0)
            aliases = [Alias(AliasKind.EMAIL, email.lower(), person.id)] if email else []
            aliases += [Alias(AliasKind.NAME, name, person.id)] if name else []
            known = self._people[(name, email)] = (person, tuple(aliases))
        return known

    def _author(self, value: str, defects: list[str]) -> tuple[str, str]:
        known = self._authors.get(value)
        if known is None:
            noted: list[str] = []
            known = self._authors[value] = (*self._address(value, noted), tuple(noted))
        defects.extend(known[2])
        return known[0], known[1]

    def _address(self, value: str, defects: list[str]) -> tuple[str, str]:
        name, email = parseaddr(value)
        if "@" not in email and " at " in value:  # pipermail: "ada at example.org (Ada)"
            name, email = parseaddr(value.replace(" at ", "@", 1))
        name = " ".join(decode_words(name, defects).split()).strip("\"' ")
        if "@" not in email:
            name, email = name or " ".join(value.split()).strip("<>\"' "), ""
        return name[:200], email.strip()

    def _id(self, family: str, kind: str, key: str) -> int:
        """``Node.node_id`` of a node met again and again (lists, threads, files), memoised."""
        known = self._ids.get((kind, key))
        if known is None:
            known = self._ids[(kind, key)] = make_id(family, kind, key)
            if len(self._ids) > 200_000:
                self._ids.clear()
        return known

    def _month(self, when: int) -> str:
        """``YYYY-MM`` of ``when`` (UTC), memoised by day."""
        day = when // 86_400
        month = self._months.get(day)
        if month is None:
            if len(self._months) > 100_000:
                self._months.clear()
            month = self._months[day] = time.strftime("%Y-%m", time.gmtime(when))
        return month

    # -- one message -----------------------------------------------------------------------------

    def _midnight(self, day: str, name: str, year: str, zone: str) -> int | None:
        """The time of 00:00 on a date in a zone (as matched by ``_DATE``), memoised; None for
        an unknown month."""
        month = _MONTHS.get(name.lower())
        if month is None:
            return None
        offset = (int(zone[1:3]) * 60 + int(zone[3:5])) * (-60 if zone[0] == "-" else 60)
        days = calendar.timegm((int(year), month, int(day), 0, 0, 0)) // 86_400
        if len(self._days) > 100_000:
            self._days.clear()
        start = self._days[(day, name, year, zone)] = days * 86_400 - offset
        return start

    def _time(self, fields: dict[str, str], postmark: str, defects: list[str]) -> int | None:
        for value, what in ((fields.get("date", ""), "Date header"), (postmark, "From line")):
            quick = _DATE.match(value)
            if quick is not None:
                day, name, year, hour, minute, second, zone = quick.groups()
                start = self._days.get((day, name, year, zone))
                if start is None:
                    start = self._midnight(day, name, year, zone)
                if start is not None:
                    return start + int(hour) * 3600 + int(minute) * 60 + int(second or 0)
            parsed = parsedate_tz(value) if value else None
            if parsed is not None:
                try:
                    return int(mktime_tz(parsed))
                except (OverflowError, ValueError):
                    pass
            defects.append(f"no valid date in the {what}")
        return None

    def parse(
        self,
        raw: bytes,
        place: str,
        fallback_list: str,
        postmark: str = "",
        noted: Sequence[str] = (),
    ) -> Record | None:
        """The record of one message (``raw`` without its ``From`` line); None if no headers.

        ``fallback_list`` names the list of messages without a List-Id (e.g. the file name).
        """
        defects: list[str] = list(noted)
        if b"\x00" in raw:
            raw = raw.replace(b"\x00", b"")
            defects.append("NUL bytes removed")
        end = raw.find(b"\n\n")
        head, body = (raw, b"") if end < 0 else (raw[:end], raw[end + 2 :])
        fields = parse_headers(head, defects)
        if not fields and not HEADER_LINE.match(head):
            return None
        found = message_ids(fields.get("message-id", ""))
        mid = (
            found[0]
            if found
            else "hash:" + hashlib.blake2b(raw.rstrip(), digest_size=16).hexdigest()
        )
        if not found:
            defects.append("no Message-ID: keyed by a hash of the message")
        message_id = make_id("item", "message", mid)  # Node.node_id(NodeKind.MESSAGE, mid)
        record = Record("mbox", message_id, place)
        when = self._time(fields, postmark, defects)
        suspect = when is not None and not (_MIN_TIME <= when <= self.max_time)
        lflags = int(Flag.TIME_SUSPECT) if suspect else 0
        subject = " ".join(decode_words(fields.get("subject", ""), defects).split())[:1000]

        prefix = f"link\x1fmbox\x1f{mid}\x1f"
        links = record.links

        def link(src: int, kind: LinkKind, dst: int, tag: str = "") -> None:
            # make_id("link", "mbox", mid, kind, tag, str(dst)), without a call per link
            raw = f"{prefix}{kind._value_}\x1f{tag}\x1f{dst}".encode("utf-8", "surrogatepass")
            link_id = (int.from_bytes(_blake2b(raw, digest_size=8).digest()) >> 1) or 1
            links.append(Link(link_id, src, dst, kind, when, 1.0, lflags))

        author: int | None = None
        if "from" in fields:
            name, email = self._author(fields["from"], defects)
            person, aliases = self._identity(name, email)
            if when is not None and not suspect:
                person = Node(person.id, person.kind, person.key, person.name, when, person.flags)
            record.nodes.append(person)
            record.aliases.extend(aliases)
            author = self.author_of[mid] = person.id
            link(author, LinkKind.AUTHORED, message_id)
        else:
            defects.append("no From header")

        lists = (fields.get("list-id"), fields.get("x-mailing-list"), fields.get("list-post"))
        if lists not in self._lists:
            self._lists[lists] = list_key(fields)
        group_key, group_name = self._lists[lists] or (fallback_list, fallback_list)
        group_id = self._id("group", "group", "list:" + group_key)
        group = Node(group_id, NodeKind.GROUP, "list:" + group_key, group_name, when)
        record.nodes.append(group)
        if author is not None and when is not None:  # one membership per person, list, month
            month = self._month(when)
            if (author, group_id, month) not in self._members:
                self._members.add((author, group_id, month))
                member = make_id("link", "mbox", "member", str(author), str(group_id), month)
                record.links.append(
                    Link(member, author, group_id, LinkKind.MEMBER_OF, when, 1.0, lflags)
                )
        elif author is not None:
            link(author, LinkKind.MEMBER_OF, group_id)

        references = message_ids(fields["references"]) if "references" in fields else []
        replying = message_ids(fields["in-reply-to"]) if "in-reply-to" in fields else []
        parent = (replying or references or [""])[-1]
        root = (references or replying or [""])[0]
        thread = self._thread(record, mid, parent, root, subject, group_key, when, link)
        if (thread, group_id, "") not in self._members:  # once per thread and list
            self._members.add((thread, group_id, ""))
            listed_thread = make_id("link", "mbox", "thread-list", str(thread), str(group_id))
            record.links.append(
                Link(listed_thread, thread, group_id, LinkKind.MEMBER_OF, when, 1.0, lflags)
            )
        self._replies(record, mid, parent, author, when, lflags, link)
        text = body_text(fields, body, defects, raw)
        if "\x00" in text:
            text = text.replace("\x00", "")
        if len(text) > MAX_TEXT:
            defects.append(f"body cut to {MAX_TEXT:,} characters")
            text = text[:MAX_TEXT]
        self._mentions(record, mid, text, link)
        record.texts[message_id] = f"{subject}\n\n{text.strip()}".strip()
        flags = lflags | (int(Flag.DEFECT) if defects else 0)
        attrs: dict[str, object] = {"defects": defects} if defects else {}
        record.nodes.append(Node(message_id, NodeKind.MESSAGE, mid, subject, when, flags, attrs))
        record.defects.extend(defects)
        return record

    def _thread(
        self,
        record: Record,
        mid: str,
        parent: str,
        root: str,
        subject: str,
        group: str,
        when: int | None,
        link: _LinkFn,
    ) -> int:
        """Put the message in its thread; return the thread's id."""
        stripped = self._stripped.get(subject)
        if stripped is None:  # a thread's messages share a subject: stripped once
            if len(self._stripped) > 100_000:
                self._stripped.clear()
            stripped = self._stripped[subject] = strip_subject(subject)
        by_subject = (group, stripped.lower())
        if parent:
            thread = self.thread_of.get(parent) or root
        elif by_subject in self.subjects and stripped:
            thread = self.subjects[by_subject]
        elif stripped and stripped != subject:  # a reply or forward without references
            thread = f"subject:{group}:{stripped.lower()}"
        else:
            thread = mid
        if stripped:
            self.subjects.setdefault(by_subject, thread)
        self.thread_of.setdefault(mid, thread)
        thread_id = self._id("item", "thread", thread)
        node = Node(thread_id, NodeKind.THREAD, thread, stripped or subject, when)
        record.nodes.append(node)
        link(record.key, LinkKind.MEMBER_OF, node.id)
        return thread_id

    def _replies(
        self,
        record: Record,
        mid: str,
        parent: str,
        author: int | None,
        when: int | None,
        flags: int,
        link: _LinkFn,
    ) -> None:
        if parent and parent != mid:
            link(record.key, LinkKind.REPLIES, make_id("item", "message", parent))
            if author is not None:
                answered = self.author_of.get(parent)
                if answered is None:
                    self.waiting.setdefault(parent, []).append((mid, author, when))
                elif answered != author:
                    link(author, LinkKind.REPLIES, answered, "person")
        # people who answered this message earlier in the run, before it was read
        for child, child_author, child_time in self.waiting.pop(mid, []):
            if author is not None and child_author != author:
                link_id = make_id("link", "mbox", child, "replies", "person", str(author))
                record.links.append(
                    Link(link_id, child_author, author, LinkKind.REPLIES, child_time, 1.0, flags)
                )

    def _mentions(self, record: Record, mid: str, text: str, link: _LinkFn) -> None:
        has_path = "/" in text
        has_mid = "@" in text and any(hint in text for hint in _MID_HINTS)
        if not has_path and not has_mid:
            return
        if has_path:
            # a path never spans lines: only the unquoted lines with a slash are searched
            lines = "\n".join(line for line in _slash_lines(text) if line.lstrip(" \t")[:1] != ">")
            paths = {a or b for a, b in _DIFF_PATH.findall(lines)}
            for path in _PATH.findall(lines):
                paths.add(path[2:] if path[:2] in ("a/", "b/") and "/" in path[2:] else path)
            for path in sorted(paths)[:MAX_MENTIONS]:
                file = self._files.get(path)
                if file is None:  # a file node has no time: one object serves every mention
                    if len(self._files) > 100_000:
                        self._files.clear()
                    file = Node(make_id("item", "file", path), NodeKind.FILE, path, path)
                    self._files[path] = file
                record.nodes.append(file)
                link(record.key, LinkKind.MENTIONS, file.id)
        if has_mid:
            own = _QUOTED.sub("", text) if ">" in text else text
            found = _MID_MENTION.findall(own)
            mentioned = {unquote(next(g for g in m if g)) for m in found}
            mentioned.discard(mid)
            for other in sorted(mentioned)[:MAX_MENTIONS]:
                link(record.key, LinkKind.MENTIONS, make_id("item", "message", other))


class _LinkFn(Protocol):  # the signature of the ``link`` closure, for type checking
    def __call__(self, src: int, kind: LinkKind, dst: int, tag: str = "") -> None: ...


__all__ = ["MAX_TEXT", "MessageParser", "list_key", "message_ids", "strip_subject"]
