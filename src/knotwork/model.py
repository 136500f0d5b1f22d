"""The vocabulary of the work graph as typed values.

A **node** is anything in the graph (a person, a commit, a file, ...), a **link** a typed,
directed, time-stamped relation between two nodes, an **alias** an external identity that
resolves to a person. A **record** is what a source yields for one native record (one commit,
one message): the nodes, links, aliases and texts it contributes, and the defects noted while
reading it.

Ids are stable: a node's id is a 63-bit hash of its kind family and natural key, a link's id a
hash of its origin and native id, so that ingesting the same data twice changes nothing.

>>> person = Node.person("Ada@Example.org", name="Ada")
>>> person.key, person.kind
('ada@example.org', <NodeKind.PERSON: 'person'>)
>>> person.id == Node.person("ada@example.org").id
True
>>> NodeKind.COMMIT.family
'item'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import IntFlag, StrEnum
from typing import Any


def make_id(*parts: str) -> int:
    """A stable, positive 63-bit id from the parts (blake2b).

    >>> make_id("person", "ada@example.org") == make_id("person", "ada@example.org")
    True
    >>> 0 < make_id("x") < 2**63
    True
    """
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=8)
    return (int.from_bytes(digest.digest(), "big") >> 1) or 1


def canonical_json(value: Any) -> str:
    """JSON text with sorted keys and no spaces, the same on every backend.

    >>> canonical_json({"b": 1, "a": [2, None]})
    '{"a":[2,null],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class NodeKind(StrEnum):
    """Kinds of node; :attr:`family` groups them (person, item, purpose, group)."""

    PERSON = "person"
    ORG = "org"
    CUSTOMER = "customer"
    THING = "thing"
    COMMIT = "commit"
    FILE = "file"
    MESSAGE = "message"
    THREAD = "thread"
    ISSUE = "issue"
    CHANGE = "change"
    REVIEW = "review"
    POST = "post"
    DOCUMENT = "document"
    TASK = "task"
    NEED = "need"
    OFFER = "offer"
    PROJECT = "project"
    DECISION = "decision"
    GROUP = "group"

    @property
    def family(self) -> str:
        """``actor`` kinds, ``item``, ``purpose`` or ``group``."""
        return _FAMILY[self]


_FAMILY: dict[NodeKind, str] = {
    **{k: "actor" for k in (NodeKind.PERSON, NodeKind.ORG, NodeKind.CUSTOMER, NodeKind.THING)},
    **{
        k: "item"
        for k in (
            NodeKind.COMMIT,
            NodeKind.FILE,
            NodeKind.MESSAGE,
            NodeKind.THREAD,
            NodeKind.ISSUE,
            NodeKind.CHANGE,
            NodeKind.REVIEW,
            NodeKind.POST,
            NodeKind.DOCUMENT,
        )
    },
    **{
        k: "purpose"
        for k in (
            NodeKind.TASK,
            NodeKind.NEED,
            NodeKind.OFFER,
            NodeKind.PROJECT,
            NodeKind.DECISION,
        )
    },
    NodeKind.GROUP: "group",
}


class LinkKind(StrEnum):
    """Kinds of link ``src -> dst``.

    Beyond DESIGN.md's list, git trailers bring ``acks`` (Acked-by), ``tests`` (Tested-by),
    ``reports`` (Reported-by), ``suggests`` (Suggested-by) and ``handles`` (a person other than
    the author who signed off or committed the change). Native activity adds ``updates`` (a
    person sets the state of a need, an offer or a decision; ``attrs["state"]``).
    """

    AUTHORED = "authored"
    CHANGED = "changed"
    CITES = "cites"
    REPLIES = "replies"
    REVIEWS = "reviews"
    MENTIONS = "mentions"
    REACTS = "reacts"
    MEMBER_OF = "member_of"
    REPORTS_TO = "reports_to"
    NEEDS = "needs"
    OFFERS = "offers"
    RESPONDS = "responds"
    AFFECTS = "affects"
    USES = "uses"
    ACKS = "acks"
    TESTS = "tests"
    REPORTS = "reports"
    SUGGESTS = "suggests"
    HANDLES = "handles"
    UPDATES = "updates"


class AliasKind(StrEnum):
    """Kinds of alias: an email address, a display name, a handle at a source."""

    EMAIL = "email"
    NAME = "name"
    HANDLE = "handle"


class Flag(IntFlag):
    """Flags on nodes and links.

    ``BOT``: an automated account. ``TIME_SUSPECT``: a date before 1990 or in the future, kept
    but left out of time windows. ``DEFECT``: the record was read with a defect noted in its
    ``attrs["defects"]``. ``MERGE``: a merge commit. ``OPTED_OUT``: a person who opted out
    (:func:`knotwork.store.erase.opt_out`): left out of every result and every group count.
    """

    NONE = 0
    BOT = 1
    TIME_SUSPECT = 2
    DEFECT = 4
    MERGE = 8
    OPTED_OUT = 256


@dataclass(frozen=True, slots=True)
class Node:
    """A node: ``id`` is derived from ``kind.family`` and ``key`` unless given."""

    id: int
    kind: NodeKind
    key: str
    name: str = ""
    time: int | None = None
    flags: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def node_id(kind: NodeKind, key: str) -> int:
        """The stable id of the node of this kind and key."""
        return make_id(kind.family, kind.value, key)

    @classmethod
    def make(
        cls,
        kind: NodeKind,
        key: str,
        name: str = "",
        time: int | None = None,
        flags: int = 0,
        attrs: dict[str, Any] | None = None,
    ) -> Node:
        """A node with its id derived from ``kind`` and ``key``."""
        return cls(cls.node_id(kind, key), kind, key, name, time, flags, attrs or {})

    @classmethod
    def person(cls, email: str, name: str = "", flags: int = 0) -> Node:
        """A person known by an email address (lowercased), or by ``name:<name>`` without one."""
        return cls.make(NodeKind.PERSON, person_key(email, name), name, None, flags)


def person_key(email: str, name: str = "") -> str:
    """The natural key of a person: the lowercased email, else ``name:<name>``.

    >>> person_key(" Ada@Example.ORG ")
    'ada@example.org'
    >>> person_key("", "Ada Lovelace")
    'name:ada lovelace'
    """
    email = email.strip().lower()
    return email if email else "name:" + " ".join(name.split()).lower()


@dataclass(frozen=True, slots=True)
class Link:
    """A link event ``src -> dst`` of a kind, at a time, with a weight."""

    id: int
    src: int
    dst: int
    kind: LinkKind
    time: int | None = None
    weight: float = 1.0
    flags: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alias:
    """An external identity (``kind``, ``value``) that resolves to the person ``person``."""

    kind: AliasKind
    value: str
    person: int

    @property
    def id(self) -> int:
        """Stable id of this alias-to-person binding."""
        return make_id("alias", self.kind.value, self.value, str(self.person))


@dataclass(slots=True)
class Record:
    """What a source yields for one native record.

    ``key`` is the id of the record's main node: a record whose main node is already stored
    is a duplicate. ``place`` says where it came from (e.g. ``repo@<sha>``), for reports.
    """

    source: str
    key: int
    place: str
    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    texts: dict[int, str] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A native record that could not be ingested: where, and why."""

    place: str
    reason: str


__all__ = [
    "Alias",
    "AliasKind",
    "Flag",
    "Link",
    "LinkKind",
    "Node",
    "NodeKind",
    "Record",
    "Rejection",
    "canonical_json",
    "make_id",
    "person_key",
]
