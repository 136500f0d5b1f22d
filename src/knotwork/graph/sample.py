"""A tiny store for examples and doctests: three people (one a bot), three commits, three files.

``ada`` authored c1 (reviewed by ``bob``) on the ice driver; ``bob`` authored c2 (acked by
``ada``) in EAL, which cites c1; the bot authored c3 on the ice driver; ``bob`` handled c1 and
c3 (signed them off as the maintainer who applied them).

>>> store = sample_store()
>>> from knotwork.store.stats import stats
>>> stats(store)["links"]["changed"]
4
"""

from __future__ import annotations

from knotwork.ingest.base import Batch
from knotwork.model import Alias, AliasKind, Flag, Link, LinkKind, Node, NodeKind, Record, make_id
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

DAY = 86_400
T0 = 1_577_836_800  # 2020-01-01


def _link(src: Node, dst: Node, kind: LinkKind, when: int, **attrs: int) -> Link:
    return Link(
        make_id("sample", str(src.id), str(dst.id), kind.value),
        src.id,
        dst.id,
        kind,
        when,
        1.0,
        0,
        dict(attrs),
    )


def sample_records() -> list[Record]:
    """The records of the sample graph."""
    ada = Node.person("ada@example.org", "Ada Lovelace")
    bob = Node.person("bob@example.org", "Bob Baker")
    bot = Node.person("ci-bot@example.org", "CI Bot", flags=int(Flag.BOT))
    ice_c = Node.make(NodeKind.FILE, "drivers/net/ice/ice.c")
    ice_h = Node.make(NodeKind.FILE, "drivers/net/ice/ice.h")
    eal = Node.make(NodeKind.FILE, "lib/eal/eal.c")
    commits = [
        (Node.make(NodeKind.COMMIT, "c1" * 20, "net/ice: fix link state on reset", T0), ada),
        (Node.make(NodeKind.COMMIT, "c2" * 20, "eal: add memory hotplug", T0 + 366 * DAY), bob),
        (Node.make(NodeKind.COMMIT, "c3" * 20, "net/ice: bump version", T0 + 731 * DAY), bot),
    ]
    (c1, _), (c2, _), (c3, _) = commits
    extra: dict[int, list[Link]] = {
        c1.id: [
            _link(c1, ice_c, LinkKind.CHANGED, T0, added=10, deleted=2),
            _link(c1, ice_h, LinkKind.CHANGED, T0, added=1, deleted=0),
            _link(bob, c1, LinkKind.REVIEWS, T0),
            _link(bob, c1, LinkKind.HANDLES, T0),
        ],
        c2.id: [
            _link(c2, eal, LinkKind.CHANGED, c2.time or 0, added=50, deleted=0),
            _link(ada, c2, LinkKind.ACKS, c2.time or 0),
            _link(c2, c1, LinkKind.CITES, c2.time or 0),
        ],
        c3.id: [
            _link(c3, ice_c, LinkKind.CHANGED, c3.time or 0, added=1, deleted=1),
            _link(bob, c3, LinkKind.HANDLES, c3.time or 0),
        ],
    }
    records = []
    for commit, author in commits:
        people = [ada, bob, bot]
        files = [ice_c, ice_h, eal]
        records.append(
            Record(
                "git",
                commit.id,
                f"sample@{commit.key[:6]}",
                nodes=[commit, *people, *files],
                links=[
                    _link(author, commit, LinkKind.AUTHORED, commit.time or 0),
                    *extra[commit.id],
                ],
                aliases=[Alias(AliasKind.EMAIL, p.key, p.id) for p in people]
                + [Alias(AliasKind.NAME, p.name, p.id) for p in people],
                texts={commit.id: commit.name},
            )
        )
    return records


def commit_record(
    sha: str,
    author: str,
    when: int,
    files: list[str],
    message: str = "",
    **trailers: list[str],
) -> Record:
    """One commit as a git source would give it: ``author`` and trailer people are emails
    (a person ``name:<x>`` for ``bot:<x>`` is flagged as a bot); ``trailers`` map a link kind
    (``reviews``, ``acks``, ``handles``, ...) to the people it names.

    >>> record = commit_record("ab12", "ada@example.org", 0, ["a.c"], "Fix", reviews=["b@x.org"])
    >>> sorted(link.kind.value for link in record.links)
    ['authored', 'changed', 'reviews']
    """
    commit = Node.make(NodeKind.COMMIT, sha, message.split("\n", 1)[0], when)
    people: dict[str, Node] = {}

    def person(email: str) -> Node:
        if email not in people:
            bot = email.startswith("bot:")
            flags = int(Flag.BOT) if bot else 0
            people[email] = Node.person(email.removeprefix("bot:"), email.split("@")[0], flags)
        return people[email]

    links = [_link(person(author), commit, LinkKind.AUTHORED, when)]
    for kind, emails in trailers.items():
        links += [_link(person(e), commit, LinkKind(kind), when) for e in emails]
    paths = [Node.make(NodeKind.FILE, f) for f in files]
    links += [_link(commit, f, LinkKind.CHANGED, when, added=1, deleted=0) for f in paths]
    return Record(
        "git",
        commit.id,
        f"sample@{sha}",
        nodes=[commit, *people.values(), *paths],
        links=links,
        aliases=[Alias(AliasKind.EMAIL, p.key, p.id) for p in people.values()],
        texts={commit.id: message} if message else {},
    )


def store_of(records: list[Record], url: str = "sqlite://") -> Store:
    """A new store (in memory by default) holding ``records``."""
    store = Store.open(url)
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch(records, [], {}))
    return store


def sample_store(url: str = "sqlite://") -> Store:
    """A new store (in memory by default) holding the sample graph."""
    store = Store.open(url)
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch(sample_records(), [], {}))
    return store


__all__ = ["commit_record", "sample_records", "sample_store", "store_of"]
