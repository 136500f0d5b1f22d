"""What the Perceval parser shares between backends: errors, dates, people, messages.

People are keyed by email when the item has one (:meth:`Node.person`), else by their handle at
the platform (``github:<login>``, ``gitlab:<host>:<username>``), with ``<handle>@<platform>``
handle aliases and ``name`` aliases.

>>> record = Record("perceval", 1, "x")
>>> person = Items().person(record, {"login": "ada"}, "github")
>>> person == Node.node_id(NodeKind.PERSON, "github:ada")
True
>>> [a.value for a in record.aliases]
['ada@github']
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

from knotwork.ingest.chat import clean, link, summary
from knotwork.ingest.git_parse import DEFAULT_BOT_PATTERNS
from knotwork.model import Alias, AliasKind, Flag, LinkKind, Node, NodeKind, Record

_A, _R = LinkKind.AUTHORED, LinkKind.REPLIES
_REACTS, _HANDLES = LinkKind.REACTS, LinkKind.HANDLES
_HIDDEN = re.compile(r"<(style|script|head)\b", re.IGNORECASE)
_CLOSE = {t: re.compile(rf"</{t}\s*>", re.IGNORECASE) for t in ("style", "script", "head")}
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")  # not [^>]*: linear on text with many "<" and no ">"


class BadItem(ValueError):
    """An item that cannot be ingested; the message is the rejection's reason."""


class Unsupported(BadItem):
    """An item of a backend or category this source does not read."""


def when(value: object) -> int | None:
    """Seconds since the epoch of an ISO date, an RFC 2822 date or a number; None if neither.

    >>> when("2020-01-01T00:00:00Z"), when(1577836800.5), when("nonsense")
    (1577836800, 1577836800, None)
    """
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return int(value) if 0 <= value < 2**40 else None
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        if text[:4].isdigit() and "-" in text[:8]:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            stamp = parsedate_to_datetime(text)
        return int(stamp.timestamp())
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


def html_text(value: str) -> str:
    """The text of an HTML fragment (Discourse's ``cooked`` posts, HTML-only mail): the contents
    of ``style``, ``script`` and ``head`` left out, ``<br>`` a line break, other tags dropped,
    entities unescaped.

    >>> html_text("<style>p{margin:0}</style><p>Q&amp;A: a&lt;b<br>&#8220;ok&#8221;</p>")
    'Q&A: a<b\\n“ok”'
    """
    if "<" in value:
        value = _TAG.sub("", _BREAK.sub("\n", _visible(value)))
    return html.unescape(value) if "&" in value else value


def _visible(value: str) -> str:
    """``value`` without its ``style``, ``script`` and ``head`` elements (an unclosed one hides
    the rest); one pass, however many there are."""
    kept, position = [], 0
    while opened := _HIDDEN.search(value, position):
        kept.append(value[position : opened.start()])
        closed = _CLOSE[opened.group(1).lower()].search(value, opened.end())
        if closed is None:
            return "".join(kept)
        position = closed.end()
    kept.append(value[position:])
    return "".join(kept)


def obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def native(data: dict[str, Any], *fields: str) -> str:
    for field in fields:
        value = data.get(field)
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            return clean(str(value)).strip()
    raise BadItem(f"data has no {' or '.join(fields)}")


class _Person(NamedTuple):
    node: Node
    aliases: tuple[Alias, ...]
    handle: str
    emailed: bool


class Items:
    """The shapes every backend's items share."""

    # -- people ---------------------------------------------------------------------------

    def __init__(self, bot_patterns: Sequence[str] | None = None) -> None:
        patterns = DEFAULT_BOT_PATTERNS if bot_patterns is None else tuple(bot_patterns)
        self.bots = re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None
        self._people: dict[tuple[object, ...], _Person | None] = {}
        # within one item: the person with an email of each (platform, handle), and the
        # handles met without an email (see :meth:`resolving`)
        self._emailed: dict[tuple[str, str], _Person] = {}
        self._bare: set[tuple[str, str]] = set()

    def person(self, record: Record, user: object, platform: str) -> int | None:
        """The id of the person of a user object (added to ``record`` with aliases), or None.

        A user without an email whose handle comes with an email elsewhere in the same item
        is that person (the item's ``user`` beside its ``user_data``, Gerrit accounts given
        with and without their email): :meth:`resolving` reads the item again if needed."""
        user = obj(user)
        fields = ("login", "username", "email", "name", "type")
        values = (v if isinstance(v := user.get(f), str) else None for f in fields)
        memo = (platform, *values, user.get("bot") is True)
        if memo in self._people:
            found = self._people[memo]
        else:
            found = self._people[memo] = self._person(user, platform)
            if len(self._people) > 100_000:
                self._people.clear()
        if found is None:
            return None
        if found.handle:
            handle = (platform, found.handle)
            if found.emailed:
                self._emailed.setdefault(handle, found)
            elif handle in self._emailed:
                found = self._emailed[handle]
            else:
                self._bare.add(handle)
        if found.node not in record.nodes:
            record.nodes.append(found.node)
            record.aliases.extend(found.aliases)
        return found.node.id

    def resolving(self, read: Callable[[], Record]) -> Record:
        """The record ``read`` makes of one item, read a second time when a handle met without
        an email was later met with one, so that both are the person with the email."""
        self._emailed.clear()
        self._bare.clear()
        try:
            record = read()
            if not self._bare.isdisjoint(self._emailed):
                record = read()  # every handle's email now known from the first reading
            return record
        finally:
            self._emailed.clear()
            self._bare.clear()

    def _person(self, user: dict[str, Any], platform: str) -> _Person | None:
        handle = clean(user.get("login") or user.get("username")).strip()
        email = clean(user.get("email")).strip()
        name = " ".join(clean(user.get("name")).split())
        if "@" not in email:
            email = ""
        if not (handle or email):
            return None
        aliases = []
        flags = int(Flag.BOT) if self._bot(user, handle, email, name) else 0
        if email:
            node = Node.person(email, name or handle, flags)
            aliases.append(Alias(AliasKind.EMAIL, email.lower(), node.id))
        else:
            node = Node.make(NodeKind.PERSON, f"{platform}:{handle}", name or handle, None, flags)
        if handle:
            aliases.append(Alias(AliasKind.HANDLE, f"{handle}@{platform}", node.id))
        if name:
            aliases.append(Alias(AliasKind.NAME, name, node.id))
        return _Person(node, tuple(aliases), handle, bool(email))

    def _bot(self, user: dict[str, Any], handle: str, email: str, name: str) -> bool:
        """An automated account: GitHub's ``"type": "Bot"``, GitLab's ``"bot": true``, or a
        name or handle matching the bot patterns (those of the git source by default)."""
        if user.get("type") == "Bot" or user.get("bot") is True:
            return True
        if self.bots is None:
            return False
        return any(self.bots.search(f"{who} <{email}>") for who in {name, handle} if who or email)

    # -- shared shapes --------------------------------------------------------------------

    def _item_node(
        self, record: Record, kind: NodeKind, key: str, data: dict[str, Any], **attrs: Any
    ) -> Node:
        title = clean(data.get("title") or data.get("subject"))[:1000]
        for field in ("state", "status"):
            if isinstance(data.get(field), str):
                attrs["state"] = clean(data[field])
        if closed := when(data.get("closed_at") or data.get("merged_at")):
            attrs["closed"] = closed
        node = Node.make(kind, key, title, when(data.get("created_at")), 0, attrs)
        record.nodes.insert(0, node)
        body = clean(data.get("body") or data.get("description"))
        if body:
            record.texts[node.id] = body
        return node

    def _message(
        self,
        record: Record,
        key: str,
        text: str,
        at: int | None,
        author: int | None,
        parent: tuple[int, int | None],
        **attrs: Any,
    ) -> int:
        """A message node ``key`` by ``author`` replying to ``parent`` (node, its author)."""
        node = Node.make(NodeKind.MESSAGE, key, summary(text), at, 0, attrs)
        record.nodes.append(node)
        if text:
            record.texts[node.id] = text
        link(record, key, _R, node.id, parent[0], at)
        if author is not None:
            link(record, key, _A, author, node.id, at)
            if parent[1] is not None and parent[1] != author:
                link(record, key, _R, author, parent[1], at)
        return node.id

    def _reactions(
        self, record: Record, key: str, target: int, reactions: object, platform: str
    ) -> None:
        for reaction in items(reactions):
            reaction = obj(reaction)
            emoji = clean(reaction.get("content") or reaction.get("name"))
            user = reaction.get("user_data") or reaction.get("user")
            who = self.person(record, user, platform)
            if who is None:
                record.defects.append(f"reaction without a user on {key}")
                continue
            at = when(reaction.get("created_at"))
            link(record, f"{key}:{emoji}", _REACTS, who, target, at, {"emoji": emoji})

    def _roles(
        self, record: Record, key: str, target: int, users: object, role: str, platform: str
    ) -> None:
        for user in items(users) if isinstance(users, list) else [users]:
            if (who := self.person(record, user, platform)) is not None:
                link(record, f"{key}:{role}", _HANDLES, who, target, None, {"role": role})


__all__ = ["BadItem", "Items", "Unsupported", "html_text", "items", "native", "obj", "when"]
