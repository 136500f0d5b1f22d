"""Small, real-looking records for store tests: the history of a little project, *fernwood*.

Records are built the way a git source builds them: a commit record holds the commit, its
people and files as nodes, ``authored``/``changed`` and trailer links, the people's aliases
and the commit message as text. Everything is explicit so that tests can change one detail
(a name, a time, a flag, a weight) and see what the store does with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from knotwork.ingest.base import Batch, Cursor
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
    person_key,
)
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

DAY = 86_400
T0 = 1_656_666_000  # 2022-07-01 09:00:00 UTC
REPO = "git:fernwood"
SOURCE = SourceInfo("git", REPO, "/srv/git/fernwood.git")


def sha(text: str) -> str:
    """A 40-hex commit id derived from ``text``."""
    return hashlib.sha1(text.encode()).hexdigest()


@dataclass(frozen=True)
class Who:
    """A contributor as git shows them: ``Name <email>``, maybe a bot, maybe more addresses."""

    name: str
    email: str
    flags: int = 0
    more: tuple[tuple[AliasKind, str], ...] = ()

    @property
    def key(self) -> str:
        return person_key(self.email, self.name)

    @property
    def id(self) -> int:
        return Node.node_id(NodeKind.PERSON, self.key)

    def node(self, time: int | None = None, name: str | None = None, flags: int = 0) -> Node:
        """This person as a node seen at ``time`` (optionally under another name / flags)."""
        return Node.make(
            NodeKind.PERSON,
            self.key,
            self.name if name is None else name,
            time,
            self.flags | flags,
        )

    def aliases(self) -> list[Alias]:
        found = [Alias(AliasKind.NAME, self.name, self.id)]
        if self.email:
            found.append(Alias(AliasKind.EMAIL, self.email.lower(), self.id))
        found += [Alias(kind, value, self.id) for kind, value in self.more]
        return found


MARIA = Who(
    "María García",
    "maria@fernwood.dev",
    more=((AliasKind.EMAIL, "M.Garcia@Uni-Leipzig.de"), (AliasKind.HANDLE, "mgarcia@github")),
)
JONAS = Who("Jonas Becker", "jonas.becker@posteo.de")
PRIYA = Who("Priya Raman", "priya@raman.io")
TOMASZ = Who("Tomasz Nowak", "")  # committed without an email address: key "name:tomasz nowak"
DEPENDABOT = Who(
    "dependabot[bot]",
    "49699333+dependabot[bot]@users.noreply.github.com",
    flags=int(Flag.BOT),
)


def file_node(path: str) -> Node:
    return Node.make(NodeKind.FILE, path)


def link(
    src: int,
    dst: int,
    kind: LinkKind,
    time: int | None,
    *,
    weight: float = 1.0,
    flags: int = 0,
    attrs: dict[str, object] | None = None,
    salt: str = "",
) -> Link:
    """A link event with an id derived from its ends and kind (as a source would make it)."""
    return Link(
        make_id(REPO, str(src), str(dst), kind.value, salt),
        src,
        dst,
        kind,
        time,
        weight,
        flags,
        dict(attrs or {}),
    )


@dataclass
class Commit:
    """One commit and what it brings: author, changed files with line counts, trailers."""

    subject: str
    author: Who
    time: int
    files: dict[str, tuple[int, int]]
    body: str = ""
    reviewers: Sequence[Who] = ()
    ackers: Sequence[Who] = ()
    committer: Who | None = None
    flags: int = 0
    weight: float = 1.0
    author_name: str | None = None  # the name the author used in this commit
    author_flags: int = 0
    extra_links: list[Link] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return sha(self.subject + self.author.email + str(self.time))

    @property
    def node(self) -> Node:
        return Node.make(NodeKind.COMMIT, self.sha, self.subject, self.time, self.flags)

    def record(self) -> Record:
        commit = self.node
        suspect = self.flags & int(Flag.TIME_SUSPECT)
        people: dict[int, Node] = {}
        aliases: dict[int, Alias] = {}

        def see(who: Who, name: str | None = None, flags: int = 0) -> int:
            node = who.node(self.time, name, flags)
            people.setdefault(node.id, node)
            for alias in who.aliases():
                aliases.setdefault(alias.id, alias)
            return node.id

        links = [
            link(
                see(self.author, self.author_name, self.author_flags),
                commit.id,
                LinkKind.AUTHORED,
                self.time,
                weight=self.weight,
                flags=suspect,
            )
        ]
        for kind, who_list in ((LinkKind.REVIEWS, self.reviewers), (LinkKind.ACKS, self.ackers)):
            links += [link(see(w), commit.id, kind, self.time, flags=suspect) for w in who_list]
        if self.committer is not None and self.committer != self.author:
            links.append(
                link(see(self.committer), commit.id, LinkKind.HANDLES, self.time, flags=suspect)
            )
        files = [file_node(path) for path in self.files]
        links += [
            link(
                commit.id,
                f.id,
                LinkKind.CHANGED,
                self.time,
                flags=suspect,
                attrs={"added": added, "deleted": deleted},
            )
            for f, (added, deleted) in zip(files, self.files.values(), strict=True)
        ]
        links += self.extra_links
        message = self.subject + ("\n\n" + self.body if self.body else "")
        return Record(
            "git",
            commit.id,
            f"/srv/git/fernwood.git@{self.sha[:12]}",
            nodes=[commit, *people.values(), *files],
            links=links,
            aliases=list(aliases.values()),
            texts={commit.id: message},
        )


def history() -> list[Commit]:
    """The first months of fernwood, oldest first (one commit has a clock set to 1970)."""
    return [
        Commit(
            "Initial import of the tokenizer",
            MARIA,
            T0,
            {
                "src/fernwood/tokenizer.py": (212, 0),
                "pyproject.toml": (31, 0),
                "README.md": (18, 0),
            },
        ),
        Commit(
            "tokenizer: handle CRLF line endings",
            JONAS,
            T0 + 3 * DAY,
            {"src/fernwood/tokenizer.py": (14, 3), "tests/test_tokenizer.py": (40, 0)},
            body="Windows checkouts broke the line counter.\n\nReviewed-by: María García",
            reviewers=[MARIA],
            committer=MARIA,
        ),
        Commit(
            "parser: first recursive-descent parser",
            MARIA,
            T0 + 9 * DAY,
            {"src/fernwood/parser.py": (388, 0), "src/fernwood/tokenizer.py": (6, 2)},
            reviewers=[PRIYA],
            ackers=[JONAS],
        ),
        Commit(
            "Bump pytest from 7.1.2 to 7.1.3",
            DEPENDABOT,
            T0 + 20 * DAY,
            {"pyproject.toml": (1, 1)},
            committer=JONAS,
        ),
        Commit(
            "parser: report the column of syntax errors",
            MARIA,
            T0 + 34 * DAY,
            {"src/fernwood/parser.py": (22, 7), "tests/test_parser.py": (55, 0)},
            reviewers=[JONAS, PRIYA],
        ),
        Commit(
            "docs: explain the grammar",
            TOMASZ,
            T0 + 41 * DAY,
            {"README.md": (64, 2)},
            reviewers=[MARIA],
        ),
        Commit(
            "parser: speed up lookahead",
            PRIYA,
            0,  # a commit whose clock said 1970: kept, flagged, left out of time spans
            {"src/fernwood/parser.py": (12, 9)},
            flags=int(Flag.TIME_SUSPECT),
            reviewers=[MARIA],
        ),
    ]


def with_node(record: Record, node: Node) -> Record:
    """``record`` with its node of ``node.id`` replaced by ``node``."""
    nodes = [node if n.id == node.id else n for n in record.nodes]
    assert node in nodes, "the record has no node with this id"
    return replace(record, nodes=nodes)


def records(commits: Iterable[Commit] | None = None) -> list[Record]:
    return [c.record() for c in (history() if commits is None else commits)]


def batch(recs: Sequence[Record], cursor: Cursor | None = None) -> Batch:
    return Batch(list(recs), [], {"seen": len(recs)} if cursor is None else cursor)


def write(
    store: Store, recs: Sequence[Record], cursor: Cursor | None = None, source: SourceInfo = SOURCE
) -> tuple[int, int]:
    """Write ``recs`` as one batch of ``source``; return (ingested, duplicates)."""
    return write_batch(store, source, batch(recs, cursor))
