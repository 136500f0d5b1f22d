"""What the chat sources (Slack, Mattermost) share: people met by handle, and message records.

A chat account becomes a person. With an email address it is the person of that address
(:meth:`Node.person`), so that the same email is the same person across sources; without one it
is keyed by the account itself, ``<source>:<workspace>:<account>``, never by its display name
(two people may share a name). Either way it gets ``handle`` and ``name`` aliases, and an
``email`` alias when known, so that identity resolution can suggest merges.

>>> people = People("slack", "T1")
>>> ada = people.add("U1", email="Ada@Example.org", name="Ada", handle="ada")
>>> ada.node.key, [a.value for a in ada.aliases]
('ada@example.org', ['ada@example.org', 'slack:T1:U1', 'ada@slack:T1', 'Ada'])
>>> people.get("U9").node.key
'slack:T1:U9'
>>> summary("  first line\\nsecond")
'first line'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import blake2b as _blake2b
from queue import Full, Queue
from threading import Event, Thread

from knotwork.ingest.base import Batch
from knotwork.model import Alias, AliasKind, Flag, Link, LinkKind, Node, NodeKind, Record, make_id

SUMMARY_CHARS = 80
_SURROGATE = re.compile("[\ud800-\udfff]")


def summary(text: str) -> str:
    """The first non-blank line of ``text``, cut to :data:`SUMMARY_CHARS` characters."""
    if text.isprintable():  # no line breaks of any kind: the one line is the text
        line = text.strip()
        return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"
    return ""


def clean(value: object) -> str:
    """``value`` as text when it is a string, else ``""``; NUL characters are dropped and lone
    surrogates (JSON allows ``"\\ud800"``, no database does) become U+FFFD.

    >>> clean("a\\x00b\\ud800"), clean(3)
    ('ab\ufffd', '')
    """
    if not isinstance(value, str):
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            value = _SURROGATE.sub("\ufffd", value)
    return value


@dataclass(frozen=True, slots=True)
class Account:
    """The person node of one chat account and the aliases that bind to it."""

    node: Node
    aliases: tuple[Alias, ...]
    declared: bool = False

    @property
    def id(self) -> int:
        """The person's node id."""
        return self.node.id

    def declare(self, record: Record) -> int:
        """Put the person and its aliases into ``record``; return the person's id."""
        record.nodes.append(self.node)
        record.aliases.extend(self.aliases)
        return self.node.id

    def add_to(self, record: Record) -> int:
        """The person's id, its node and aliases put into ``record`` unless the account was
        declared by a user list (whose record carries them, once)."""
        if not self.declared:
            record.nodes.append(self.node)
            record.aliases.extend(self.aliases)
        return self.node.id


class People:
    """The accounts of one workspace (``site``) of one ``source`` kind, by native account id."""

    def __init__(self, source: str, site: str) -> None:
        self.source = source
        self.site = site
        self.accounts: dict[str, Account] = {}

    def add(
        self,
        native: str,
        *,
        email: str = "",
        name: str = "",
        handle: str = "",
        bot: bool = False,
        declared: bool = True,
    ) -> Account:
        """Register (or replace) the account ``native``, declared by a user list unless
        ``declared`` is false; return it."""
        email = email.strip()
        name = " ".join(name.split())
        key = f"{self.source}:{self.site}:{native}"
        flags = int(Flag.BOT) if bot else 0
        if email:
            node = Node.person(email, name or handle, flags)
        else:
            node = Node.make(NodeKind.PERSON, key, name or handle or native, None, flags)
        aliases = [Alias(AliasKind.EMAIL, email.lower(), node.id)] if email else []
        aliases.append(Alias(AliasKind.HANDLE, key, node.id))
        if handle:
            aliases.append(Alias(AliasKind.HANDLE, f"{handle}@{self.source}:{self.site}", node.id))
        if name:
            aliases.append(Alias(AliasKind.NAME, name, node.id))
        account = self.accounts[native] = Account(node, tuple(aliases), declared)
        return account

    def get(self, native: str, *, name: str = "", bot: bool = False) -> Account:
        """The account ``native``, registered on first sight (from a message) if unknown."""
        account = self.accounts.get(native)
        if account is None:
            account = self.add(native, name=name, bot=bot, declared=False)
        return account


def link(
    record: Record,
    native: str,
    kind: LinkKind,
    src: int,
    dst: int,
    time: int | None,
    attrs: dict[str, object] | None = None,
    flags: int = 0,
) -> None:
    """Add the link ``src -kind-> dst`` to ``record``, its id stable from ``native``."""
    data = f"link\x1f{record.source}\x1f{native}\x1f{kind}\x1f{src}\x1f{dst}"
    raw = data.encode("utf-8", "surrogatepass")
    link_id = (int.from_bytes(_blake2b(raw, digest_size=8).digest()) >> 1) or 1
    record.links.append(Link(link_id, src, dst, kind, time, 1.0, flags, attrs or {}))


def link_id(source: str, native: str, kind: LinkKind, src: int, dst: int) -> int:
    """The id :func:`link` gives: :func:`~knotwork.model.make_id` of these parts.

    >>> record = Record("slack", 1, "x")
    >>> link(record, "T1:C1:1.0", LinkKind.REPLIES, 2, 3, None)
    >>> record.links[0].id == link_id("slack", "T1:C1:1.0", LinkKind.REPLIES, 2, 3)
    True
    """
    return make_id("link", source, native, kind.value, str(src), str(dst))


def prefetched(batches: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """The batches of ``batches``, produced ahead by a worker thread, up to ``depth`` at once.

    Parsing (Python) then overlaps with the store's writes (SQLite works outside the GIL).
    An error raised while producing is raised here, in order.

    >>> [b.read for b in prefetched(iter([Batch([], [], {}), Batch([], [], {})]))]
    [0, 0]
    """
    queue: Queue[tuple[Batch | None, BaseException | None]] = Queue(maxsize=depth)
    stop = Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        queue.put((batch, None), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put((None, None))
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put((None, exc))

    worker = Thread(target=produce, name="knotwork-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            batch, error = queue.get()
            if error is not None:
                raise error
            if batch is None:
                return
            yield batch
    finally:
        stop.set()
        worker.join(timeout=5)


__all__ = ["Account", "People", "clean", "link", "link_id", "prefetched", "summary"]
