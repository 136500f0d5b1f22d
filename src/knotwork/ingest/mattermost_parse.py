"""Turning the lines of a Mattermost bulk export into records.

Each line is one JSON object whose ``type`` names the object under the key of that name:

- ``team``: a group; ``channel``: a group ``member_of`` its team; ``direct_channel``: a group of
  its members (``member_of`` links);
- ``user``: a person (by email when the export has one, else by ``mattermost:<site>:<username>``)
  with ``handle``, ``name`` and ``email`` aliases and ``member_of`` links to the teams and channels
  it belongs to;
- ``post`` and ``direct_post``: the message and its ``replies`` as messages, each with
  ``person -authored-> message``; a reply brings ``message -replies-> root`` and ``person -replies->
  person`` (to the root's author, when another person); ``@username`` of a known user gives
  ``message -mentions-> person``; each reaction ``person -reacts-> message`` (emoji in attrs, at
  the reaction's ``create_at``). Posts ``from_bot`` or ``from_webhook`` are flagged bots. An edited
  post (``edit_at``) keeps its text, the latest, and notes ``attrs["edited"]``; a deleted one
  (``delete_at``) keeps its node, no text nor author.

A bulk export has no native ids for posts: a post is keyed by its team, channel, author and
``create_at`` (milliseconds), as Mattermost's own import does to find a post again.

>>> parser = MattermostParser("example")
>>> user = {"username": "ada", "email": "ada@example.org"}
>>> _ = parser.line({"type": "user", "user": user}, "x:1")
>>> record = parser.line({"type": "post", "post": {"team": "t", "channel": "c", "user": "ada",
...     "message": "hi @ada", "create_at": 1600000000000}}, "x:2")
>>> sorted(link.kind.value for link in record.links)
['authored', 'mentions']
"""

from __future__ import annotations

import re
from typing import Any

from knotwork.ingest.chat import Account, People, clean, link, summary
from knotwork.model import Flag, LinkKind, Node, NodeKind, Record, make_id

_MAX_MILLIS = 2**53  # beyond: not a time (and not a 64-bit integer for the store)
_MENTION = re.compile(r"@([A-Za-z0-9][A-Za-z0-9._-]*)")
#: Line types that describe the server, not the graph: read and checked, not counted.
METADATA = frozenset({"version", "emoji", "scheme", "role", "bot"})


_AUTHORED, _REPLIES, _MENTIONS = LinkKind.AUTHORED, LinkKind.REPLIES, LinkKind.MENTIONS
_REACTS, _MEMBER_OF, _MESSAGE = LinkKind.REACTS, LinkKind.MEMBER_OF, NodeKind.MESSAGE
_BOT, _DEFECT = int(Flag.BOT), int(Flag.DEFECT)


class BadLine(ValueError):
    """A line that cannot be ingested; the message is the rejection's reason."""


def _text(obj: dict[str, Any], field: str, required: bool = True) -> str:
    value = obj.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BadLine(f"{field} is {'missing' if value is None else 'not a string'}")
    if required and not value.strip():
        raise BadLine(f"{field} is empty")
    return clean(value)


def _millis(obj: dict[str, Any], field: str) -> int:
    value = obj.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < _MAX_MILLIS:
        raise BadLine(f"{field} is not a time in milliseconds")
    return value


def _optional_millis(obj: dict[str, Any], field: str) -> int:
    value = obj.get(field)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < _MAX_MILLIS:
        return value
    return 0


class MattermostParser:
    """Records of one Mattermost server, named ``site`` in the keys of its nodes."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.people = People("mattermost", site)

    def _group(self, key: str, name: str, time: int | None = None, **attrs: Any) -> Node:
        return Node.make(NodeKind.GROUP, f"mattermost:{self.site}:{key}", name, time, 0, attrs)

    def line(self, value: Any, place: str) -> Record | None:
        """The record of one parsed line (None for metadata); raises :class:`BadLine`."""
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise BadLine("not an object with a string type")
        kind = value["type"]
        if kind in METADATA:
            return None
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise BadLine(f"unknown line type {kind[:40]!r}")
        body = value.get(kind)
        if not isinstance(body, dict):
            raise BadLine(f"{kind} is not an object")
        return handler(self, body, place)

    def user(self, body: dict[str, Any], place: str) -> Record:
        """A user line: the person, aliases, memberships of teams and channels."""
        username = _text(body, "username")
        name = " ".join(
            part
            for part in (_text(body, "first_name", False), _text(body, "last_name", False))
            if part
        ) or _text(body, "nickname", False)
        account = self.people.add(
            username,
            email=_text(body, "email", False),
            name=name,
            handle=username,
            bot=body.get("is_bot") is True,
        )
        record = Record("mattermost", make_id("mattermost-user", self.site, username), place)
        person = account.declare(record)
        teams = body.get("teams") or []
        if not isinstance(teams, list):
            raise BadLine("teams is not a list")
        for team in teams:
            if not isinstance(team, dict) or not isinstance(team.get("name"), str):
                record.defects.append("malformed team membership")
                continue
            group = self._group(team["name"], team["name"])
            record.nodes.append(group)
            link(record, f"{username}:{group.key}", _MEMBER_OF, person, group.id, None)
            channels = team.get("channels") or []
            for channel in channels if isinstance(channels, list) else []:
                if isinstance(channel, dict) and isinstance(channel.get("name"), str):
                    node = self._group(f"{team['name']}:{channel['name']}", channel["name"])
                    record.nodes.append(node)
                    link(record, f"{username}:{node.key}", _MEMBER_OF, person, node.id, None)
                else:
                    record.defects.append("malformed channel membership")
        return record

    def team(self, body: dict[str, Any], place: str) -> Record:
        """A team line: a group."""
        name = _text(body, "name")
        group = self._group(name, _text(body, "display_name", False) or name, None, kind="team")
        return Record("mattermost", group.id, place, nodes=[group])

    def channel(self, body: dict[str, Any], place: str) -> Record:
        """A channel line: a group, ``member_of`` its team."""
        team, name = _text(body, "team"), _text(body, "name")
        attrs: dict[str, Any] = {"private": True} if body.get("type") == "P" else {}
        for field in ("header", "purpose"):
            if text := _text(body, field, False):
                attrs[field] = text
        group = self._group(
            f"{team}:{name}", _text(body, "display_name", False) or name, None, **attrs
        )
        parent = self._group(team, team)
        record = Record("mattermost", group.id, place, nodes=[group, parent])
        link(record, group.key, _MEMBER_OF, group.id, parent.id, None)
        return record

    def _members(self, body: dict[str, Any], field: str) -> list[str]:
        members = body.get(field)
        if (
            not isinstance(members, list)
            or not members
            or not all(isinstance(m, str) for m in members)
        ):
            raise BadLine(f"{field} is not a list of usernames")
        return sorted({clean(m) for m in members})

    def direct_channel(self, body: dict[str, Any], place: str) -> Record:
        """A direct (or group) conversation: a private group of its members."""
        members = self._members(body, "members")
        group = self._group("dm:" + ",".join(members), ", ".join(members), None, private=True)
        record = Record("mattermost", group.id, place, nodes=[group])
        for member in members:
            person = self.people.get(member).add_to(record)
            link(record, group.key, _MEMBER_OF, person, group.id, None)
        return record

    def post(self, body: dict[str, Any], place: str) -> Record:
        """A channel post with its replies."""
        team, name = _text(body, "team"), _text(body, "channel")
        return self._thread(body, place, f"{team}:{name}", name)

    def direct_post(self, body: dict[str, Any], place: str) -> Record:
        """A post in a direct conversation, with its replies."""
        members = self._members(body, "channel_members")
        return self._thread(body, place, "dm:" + ",".join(members), ", ".join(members))

    def _thread(self, body: dict[str, Any], place: str, channel: str, shown: str) -> Record:
        user, created = _text(body, "user"), _millis(body, "create_at")
        key = f"mattermost:{self.site}:{channel}:{user}:{created}"
        root = make_id("item", "message", key)
        record = Record("mattermost", root, place)
        author = self._message(record, body, key, user, created, shown, None)
        replies = body.get("replies") or []
        if not isinstance(replies, list):
            raise BadLine("replies is not a list")
        for number, reply in enumerate(replies, start=1):
            try:
                if not isinstance(reply, dict):
                    raise BadLine("not an object")
                who, when = _text(reply, "user"), _millis(reply, "create_at")
                self._message(
                    record, reply, f"{key}:{who}:{when}", who, when, shown, (root, author)
                )
            except BadLine as exc:
                record.defects.append(f"reply {number} skipped: {exc}")
        return record

    def _message(
        self,
        record: Record,
        body: dict[str, Any],
        key: str,
        user: str,
        created: int,
        channel: str,
        parent: tuple[int, Account] | None,
    ) -> Account:
        text = _text(body, "message", False)
        if text != (body.get("message") or ""):
            record.defects.append(f"NUL characters or lone surrogates removed from {key}")
        when = created // 1000
        message_id = make_id("item", "message", key)
        attrs: dict[str, Any] = {"channel": channel}
        account = self.people.get(user)
        if _optional_millis(body, "delete_at"):
            attrs["deleted"] = True
            record.nodes.append(Node(message_id, _MESSAGE, key, "", when, 0, attrs))
            return account
        props = body.get("props")
        flags = int(account.node.flags & _BOT)
        if isinstance(props, dict) and (
            props.get("from_bot") in (True, "true") or props.get("from_webhook") in (True, "true")
        ):
            flags |= _BOT  # the post, not its account: a webhook posts as its owner
            if name := clean(props.get("override_username")):
                attrs["as"] = name
        if edited := _optional_millis(body, "edit_at"):
            attrs["edited"] = edited // 1000
        person = account.add_to(record)
        link(record, key, _AUTHORED, person, message_id, when, None, flags)
        if parent is not None:
            link(record, key, _REPLIES, message_id, parent[0], when)
            if parent[1].id != person:
                link(record, key, _REPLIES, person, parent[1].add_to(record), when)
        if "@" in text:
            self._mentions(record, key, message_id, text, when)
        reactions = body.get("reactions") or []
        for reaction in reactions if isinstance(reactions, list) else [None]:
            if not isinstance(reaction, dict) or not isinstance(reaction.get("user"), str):
                record.defects.append("malformed reaction")
                continue
            emoji = clean(reaction.get("emoji_name"))
            at = _optional_millis(reaction, "create_at") // 1000 or when
            reactor = self.people.get(clean(reaction["user"])).add_to(record)
            link(record, f"{key}:{emoji}", _REACTS, reactor, message_id, at, {"emoji": emoji})
        record.nodes.append(Node(message_id, _MESSAGE, key, summary(text), when, flags, attrs))
        if text:
            record.texts[message_id] = text
        return account

    def _mentions(self, record: Record, key: str, message: int, text: str, when: int) -> None:
        seen: set[int] = set()
        for found in _MENTION.finditer(text):
            name = found.group(1).rstrip("._-")
            account = self.people.accounts.get(name) or self.people.accounts.get(name.lower())
            if account is not None and account.id not in seen:
                seen.add(account.id)
                link(record, key, _MENTIONS, message, account.add_to(record), when)


_HANDLERS = {
    "user": MattermostParser.user,
    "team": MattermostParser.team,
    "channel": MattermostParser.channel,
    "direct_channel": MattermostParser.direct_channel,
    "post": MattermostParser.post,
    "direct_post": MattermostParser.direct_post,
}

__all__ = ["METADATA", "BadLine", "MattermostParser"]
