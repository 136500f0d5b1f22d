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

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from knotwork.ingest.chat import clean, link, summary
from knotwork.model import Alias, AliasKind, LinkKind, Node, NodeKind, Record

_A, _R = LinkKind.AUTHORED, LinkKind.REPLIES
_REACTS, _HANDLES = LinkKind.REACTS, LinkKind.HANDLES


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


class Items:
    """The shapes every backend's items share."""

    # -- people ---------------------------------------------------------------------------

    def __init__(self) -> None:
        self._people: dict[tuple[object, ...], tuple[Node, tuple[Alias, ...]] | None] = {}

    def person(self, record: Record, user: object, platform: str) -> int | None:
        """The id of the person of a user object (added to ``record`` with aliases), or None."""
        user = obj(user)
        fields = ("login", "username", "email", "name")
        memo = (platform, *(v if isinstance(v := user.get(f), str) else None for f in fields))
        if memo in self._people:
            found = self._people[memo]
        else:
            found = self._people[memo] = self._person(user, platform)
            if len(self._people) > 100_000:
                self._people.clear()
        if found is None:
            return None
        if found[0] not in record.nodes:
            record.nodes.append(found[0])
            record.aliases.extend(found[1])
        return found[0].id

    def _person(self, user: dict[str, Any], platform: str) -> tuple[Node, tuple[Alias, ...]] | None:
        handle = clean(user.get("login") or user.get("username")).strip()
        email = clean(user.get("email")).strip()
        name = " ".join(clean(user.get("name")).split())
        if "@" not in email:
            email = ""
        if not (handle or email):
            return None
        aliases = []
        if email:
            node = Node.person(email, name or handle)
            aliases.append(Alias(AliasKind.EMAIL, email.lower(), node.id))
        else:
            node = Node.make(NodeKind.PERSON, f"{platform}:{handle}", name or handle)
        if handle:
            aliases.append(Alias(AliasKind.HANDLE, f"{handle}@{platform}", node.id))
        if name:
            aliases.append(Alias(AliasKind.NAME, name, node.id))
        return node, tuple(aliases)

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


__all__ = ["BadItem", "Items", "Unsupported", "items", "native", "obj", "when"]
