"""Turning the entries of a Slack export into records: the workspace, channels and messages.

Each message of a day file (``<channel>/<YYYY-MM-DD>.json``) is one record whose main node is
the message, keyed ``slack:<team>:<channel id>:<ts>``. It brings:

- ``person -authored-> message`` (bots are people flagged :attr:`Flag.BOT`, and so are their
  messages);
- for a thread reply, ``message -replies-> thread root`` and ``person -replies-> person`` (the
  reply's author to the root's author, when another person);
- for each ``<@U…>`` mention, ``message -mentions-> person`` (the message is the evidence; its
  author is one ``authored`` link away);
- for each reaction, ``person -reacts-> message`` with the emoji in ``attrs`` (an endorsement),
  at the message's time (exports do not keep the reaction's);
- the text, mentions shown as ``@name``, for the text index; an edited message keeps its
  latest text and notes ``attrs["edited"]`` (the time of the edit).

A deleted message (``subtype`` ``tombstone`` or a ``message_deleted`` event) keeps no content: its
node stays as the root its replies point to, with ``attrs["deleted"]`` and no text, author or
links. Channel events (joins, topic changes, ...) are nodes without text; a join or leave is a
``member_of`` link (a leave notes ``attrs["left"]``).

>>> parser = SlackParser("T1")
>>> _ = parser.people.add("U1", name="Ada")
>>> record = parser.message("C1", "general", "x#1", {"ts": "1600000000.000100",
...     "user": "U1", "text": "hi <@U2>", "reactions": [{"name": "+1", "users": ["U2"]}]})
>>> sorted(link.kind.value for link in record.links)
['authored', 'mentions', 'reacts']
>>> record.texts[record.key]
'hi @U2'
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from knotwork.ingest.chat import People, clean, link, summary
from knotwork.model import Flag, LinkKind, Node, NodeKind, Record, canonical_json, make_id

_TS = re.compile(r"^\d{1,12}(?:\.\d{1,9})?$")
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_DELETED = frozenset({"tombstone", "message_deleted"})
_JOIN = frozenset({"channel_join", "group_join"})
_LEAVE = frozenset({"channel_leave", "group_leave"})
_EVENTS = frozenset(
    {"channel_topic", "channel_purpose", "channel_name", "channel_archive", "channel_unarchive"}
    | {"group_topic", "group_purpose", "group_name", "group_archive", "group_unarchive"}
    | {"pinned_item", "unpinned_item", "reminder_add", "bot_add", "bot_remove"}
)


_AUTHORED, _REPLIES, _MENTIONS = LinkKind.AUTHORED, LinkKind.REPLIES, LinkKind.MENTIONS
_REACTS, _MEMBER_OF, _MESSAGE = LinkKind.REACTS, LinkKind.MEMBER_OF, NodeKind.MESSAGE
_BOT, _DEFECT = int(Flag.BOT), int(Flag.DEFECT)


def _message_id(key: str) -> int:
    """``make_id("item", "message", key)``, its constant parts joined once."""
    raw = ("item\x1fmessage\x1f" + key).encode("utf-8", "surrogatepass")
    return (int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest()) >> 1) or 1


class BadEntry(ValueError):
    """An entry that cannot be ingested; the message is the rejection's reason."""


def parse_ts(value: object) -> tuple[str, int]:
    """A Slack ``ts`` as (text, whole seconds); raises :class:`BadEntry` when malformed.

    >>> parse_ts("1600000000.000100")
    ('1600000000.000100', 1600000000)
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        value = f"{value:.6f}"
    if not isinstance(value, str) or not _TS.match(value):
        raise BadEntry(f"bad ts {str(value)[:40]!r}")
    return value, int(value.split(".", 1)[0])


class SlackParser:
    """Records of one Slack workspace ``team``; :attr:`people` holds its accounts."""

    def __init__(self, team: str) -> None:
        self.team = team
        self.people = People("slack", team)
        self.workspace = Node.make(NodeKind.GROUP, f"slack:{team}", team, attrs={"kind": "slack"})
        self.roots: dict[str, str] = {}  # thread root ts -> author, in the current channel

    def message_id(self, channel: str, ts: str) -> int:
        """The node id of the message ``ts`` of ``channel``."""
        return _message_id(self._key(channel, ts))

    def group(self, channel: str) -> Node:
        """The group node of the channel whose id is ``channel`` (name unknown)."""
        return Node.make(NodeKind.GROUP, f"slack:{self.team}:{channel}", channel)

    # -- users and channels ------------------------------------------------------------------

    def user(self, entry: Any) -> None:
        """Register one ``users.json`` entry; raises :class:`BadEntry` when malformed."""
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise BadEntry("not a user object with a string id")
        profile = entry.get("profile")
        profile = profile if isinstance(profile, dict) else {}
        name = clean(profile.get("real_name")) or clean(entry.get("real_name"))
        name = name or clean(profile.get("display_name"))
        bot = entry.get("is_bot") is True or entry.get("is_app_user") is True
        bot = bot or clean(entry.get("id")) == "USLACKBOT"
        email = clean(profile.get("email"))
        account = self.people.add(
            clean(entry["id"]), email=email, name=name, handle=clean(entry.get("name")), bot=bot
        )
        bot_id = clean(profile.get("bot_id"))
        if bot_id:  # a bot's messages name its bot id, not its user id
            self.people.accounts.setdefault(bot_id, account)

    def workspace_record(self, place: str, version: str) -> Record:
        """The workspace as a group, every known account a ``member_of`` it.

        The record is keyed by the ``version`` of the user list (a digest), not by the group:
        a later export that adds people is not a duplicate of the first.
        """
        key = make_id("slack", "users", self.team, version)
        record = Record("slack", key, place, nodes=[self.workspace])
        seen: set[int] = set()
        for native, account in sorted(self.people.accounts.items()):
            if account.id in seen:
                continue
            seen.add(account.id)
            person = account.declare(record)
            workspace = self.workspace.id
            link(record, f"{self.team}:{native}", _MEMBER_OF, person, workspace, None)
        return record

    def channel(self, entry: Any, place: str, private: bool) -> tuple[str, str, Record]:
        """(id, folder name, record) of one channel entry; raises :class:`BadEntry`."""
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise BadEntry("not a channel object with a string id")
        native = clean(entry["id"])
        name = clean(entry.get("name"))
        members = entry.get("members", [])
        if not isinstance(members, list):
            raise BadEntry("members is not a list")
        created = entry.get("created")
        when = None
        if isinstance(created, int) and not isinstance(created, bool) and 0 <= created < 2**40:
            when = created
        attrs: dict[str, Any] = {"private": private} if private else {}
        for field in ("topic", "purpose"):
            value = entry.get(field)
            text = clean(value.get("value")) if isinstance(value, dict) else ""
            if text:
                attrs[field] = text
        if entry.get("is_archived") is True:
            attrs["archived"] = True
        key = f"slack:{self.team}:{native}"
        node = Node.make(NodeKind.GROUP, key, f"#{name}" if name else native, when, 0, attrs)
        version = hashlib.blake2b(
            canonical_json(entry).encode("utf-8", "surrogatepass"), digest_size=8
        ).hexdigest()
        record = Record("slack", make_id("slack", "channel", key, version), place)
        record.nodes += [node, self.workspace]  # keyed by version: new members are not duplicates
        link(record, key, _MEMBER_OF, node.id, self.workspace.id, when)
        for member in members:
            if isinstance(member, str):
                person = self.people.get(clean(member)).add_to(record)
                link(record, f"{key}:{member}", _MEMBER_OF, person, node.id, when)
        return native, name or native, record

    # -- messages ------------------------------------------------------------------------------

    def edits(self, entries: list[Any]) -> dict[str, dict[str, Any]]:
        """The latest version of each message edited by a ``message_changed`` event."""
        found: dict[str, dict[str, Any]] = {}
        for entry in entries:
            if isinstance(entry, dict) and entry.get("subtype") == "message_changed":
                inner = entry.get("message")
                if isinstance(inner, dict) and isinstance(inner.get("ts"), str):
                    found[inner["ts"]] = {**inner, "edited": {"ts": entry.get("ts")}}
        return found

    def deletions(self, entries: list[Any]) -> set[str]:
        """The ts of the messages deleted by ``message_deleted`` events."""
        return {
            entry["deleted_ts"]
            for entry in entries
            if isinstance(entry, dict)
            and entry.get("subtype") == "message_deleted"
            and isinstance(entry.get("deleted_ts"), str)
        }

    def message(
        self,
        channel: str,
        folder: str,
        place: str,
        entry: Any,
        edits: dict[str, dict[str, Any]] | None = None,
        deleted: set[str] | frozenset[str] = frozenset(),
    ) -> Record:
        """The record of one message entry; raises :class:`BadEntry` when malformed."""
        if not isinstance(entry, dict):
            raise BadEntry(f"not a message object but {type(entry).__name__}")
        subtype = entry.get("subtype")
        if subtype == "message_changed":
            inner = entry.get("message")
            if not isinstance(inner, dict):
                raise BadEntry("message_changed without a message object")
            entry = (edits or {}).get(str(inner.get("ts")), inner)
            subtype = entry.get("subtype")
        elif edits and isinstance(entry.get("ts"), str) and entry["ts"] in edits:
            entry = edits[entry["ts"]]
        if subtype is not None and not isinstance(subtype, str):
            raise BadEntry(f"subtype is not a string but {type(subtype).__name__}")
        if subtype == "message_deleted":
            entry = {"ts": entry.get("deleted_ts"), "subtype": "message_deleted"}
        ts, when = parse_ts(entry.get("ts"))
        text = entry.get("text", "")
        if not isinstance(text, str):
            raise BadEntry(f"text is not a string but {type(text).__name__}")
        user = entry.get("user")
        comment = entry.get("comment")
        if user is None and isinstance(comment, dict):  # a file_comment of old exports
            user, text = comment.get("user"), text or clean(comment.get("comment"))
        if user is not None and not isinstance(user, str):
            raise BadEntry(f"user is not a string but {type(user).__name__}")
        key = f"slack:{self.team}:{channel}:{ts}"
        message_id = _message_id(key)
        record = Record("slack", message_id, place)
        attrs: dict[str, Any] = {"channel": folder}
        if subtype in _DELETED or ts in deleted:
            attrs["deleted"] = True
            record.nodes.append(Node(message_id, _MESSAGE, key, "", when, 0, attrs))
            return record
        native = f"{self.team}:{channel}:{ts}"
        if subtype in _JOIN or subtype in _LEAVE or subtype in _EVENTS:
            attrs["event"] = subtype
            record.nodes.append(Node(message_id, _MESSAGE, key, "", when, 0, attrs))
            if user and subtype not in _EVENTS:
                person = self.people.get(clean(user)).add_to(record)
                group = self.group(channel).id
                extra: dict[str, object] | None = {"left": True} if subtype in _LEAVE else None
                link(record, native, _MEMBER_OF, person, group, when, extra)
            return record
        flags = 0
        bot_id = entry.get("bot_id")
        if user:
            account = self.people.accounts.get(user) or self.people.get(
                clean(user), name=self._profile_name(entry)
            )
        elif isinstance(bot_id, str) and bot_id:
            name = clean(entry.get("username")) or self._profile_name(entry, "bot_profile")
            account = self.people.get(clean(bot_id), name=name, bot=True)
        else:
            raise BadEntry("message without user or bot_id")
        if subtype == "bot_message" or account.node.flags & _BOT:
            flags |= _BOT
            if subtype:
                attrs["subtype"] = subtype
        author = account.add_to(record)
        link(record, native, _AUTHORED, author, message_id, when, None, flags)
        edited = entry.get("edited")
        if isinstance(edited, dict) and edited.get("ts") is not None:
            try:
                attrs["edited"] = parse_ts(edited["ts"])[1]
            except BadEntry:
                record.defects.append("edited.ts is malformed")
        self._thread(record, channel, native, entry, ts, user or bot_id, author, when)
        shown = self._mentions(record, native, text, when) if "<" in text else text
        self._reactions(record, native, entry, when, place)
        if not shown.isascii() or "\x00" in shown:
            cleaned = clean(shown)
            if cleaned != shown:
                shown = cleaned
                record.defects.append("NUL characters or lone surrogates removed from text")
        if record.defects:
            flags |= _DEFECT
            attrs["defects"] = list(record.defects)
        record.nodes.append(Node(message_id, _MESSAGE, key, summary(shown), when, flags, attrs))
        if shown:
            record.texts[message_id] = shown
        return record

    def _key(self, channel: str, ts: str) -> str:
        return f"slack:{self.team}:{channel}:{ts}"

    @staticmethod
    def _profile_name(entry: dict[str, Any], field: str = "user_profile") -> str:
        profile = entry.get(field)
        if not isinstance(profile, dict):
            return ""
        return clean(profile.get("real_name")) or clean(profile.get("name"))

    def _thread(
        self,
        record: Record,
        channel: str,
        native: str,
        entry: dict[str, Any],
        ts: str,
        user: str,
        author: int,
        when: int,
    ) -> None:
        thread = entry.get("thread_ts")
        if not isinstance(thread, str) or not _TS.match(thread):
            return
        if thread == ts:
            self.roots[ts] = user
            return
        root = self.message_id(channel, thread)
        link(record, native, _REPLIES, record.key, root, when)
        parent = entry.get("parent_user_id")
        parent = parent if isinstance(parent, str) else self.roots.get(thread)
        if parent and parent != user:
            target = self.people.get(clean(parent)).add_to(record)
            link(record, native, _REPLIES, author, target, when)

    def _mentions(self, record: Record, native: str, text: str, when: int) -> str:
        seen: set[int] = set()

        def shown(match: re.Match[str]) -> str:
            account = self.people.get(match.group(1))
            if account.id not in seen:
                seen.add(account.id)
                person = account.add_to(record)
                link(record, native, _MENTIONS, record.key, person, when)
            return "@" + (account.node.name or match.group(2) or match.group(1))

        text = _MENTION.sub(shown, text)
        return _CHANNEL.sub(lambda match: "#" + match.group(1), text)

    def _reactions(
        self, record: Record, native: str, entry: dict[str, Any], when: int, place: str
    ) -> None:
        reactions = entry.get("reactions")
        if reactions is None:
            return
        if not isinstance(reactions, list):
            record.defects.append("reactions is not a list")
            return
        for reaction in reactions:
            users = reaction.get("users") if isinstance(reaction, dict) else None
            emoji = clean(reaction.get("name")) if isinstance(reaction, dict) else ""
            if not emoji or not isinstance(users, list):
                record.defects.append("malformed reaction")
                continue
            for user in users:
                if isinstance(user, str):
                    person = self.people.get(clean(user)).add_to(record)
                    link(
                        record,
                        f"{native}:{emoji}",
                        _REACTS,
                        person,
                        record.key,
                        when,
                        {"emoji": emoji},
                    )


__all__ = ["BadEntry", "SlackParser", "parse_ts"]
