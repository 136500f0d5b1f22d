"""Mentioned paths join git's files of that path (:func:`~knotwork.store.merge.join_paths`)."""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

from sqlalchemy import text

from gitfactory import git
from knotwork.ingest.base import Source
from knotwork.ingest.git import GitSource
from knotwork.ingest.git_parse import file_id
from knotwork.ingest.mbox import MboxSource
from knotwork.model import make_id
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import ingest

MAIL = Path(__file__).resolve().parent.parent / "data" / "mbox" / "ice-dev.mbox"
TXRX, NETDEV = "drivers/net/ice/ice_txrx.c", "include/linux/netdevice.h"


def _repo(path: Path, files: list[str], who: str) -> Path:
    """A one-commit repository holding ``files`` (its root commit differs by ``who``)."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    stream = b"commit refs/heads/main\n"
    stream += b"author %s <%s@example.org> 1700000000 +0000\n" % (who.encode(), who.encode())
    stream += b"committer %s <%s@example.org> 1700000000 +0000\n" % (who.encode(), who.encode())
    stream += b"data 5\nfirst\n"
    for name in files:
        stream += b"M 100644 inline %s\ndata 2\nx\n\n" % name.encode()
    git(path, "fast-import", "--quiet", input=stream)
    return path


def _mentioned(store: Store) -> dict[str, int]:
    """Mentioned path -> the file node the mention points at."""
    with store.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT n.key, l.dst FROM links l JOIN nodes n ON n.id = l.dst "
                "WHERE l.kind = 'mentions' AND n.kind = 'file'"
            )
        ).all()
    return {str(key): int(dst) for key, dst in rows}


def _origin(repo: Path) -> str:
    return git(repo, "rev-list", "--max-parents=0", "HEAD").decode().strip()


def test_mentions_join_the_one_repository_that_has_the_path(tmp_path: Path) -> None:
    kernel = _repo(tmp_path / "kernel", [TXRX, "Makefile"], "ada")
    other = _repo(tmp_path / "other", [TXRX], "bo")

    def run(name: str, sources: list[Source]) -> Store:
        store = Store.open(f"sqlite:///{tmp_path / name}.db")
        for source in sources:
            ingest(store, source)
        return store

    def mbox() -> Source:
        return MboxSource([MAIL], now=1_800_000_000)

    digests = set()
    for number, order in enumerate(permutations(["mail", "kernel"])):
        make = {"mail": mbox, "kernel": lambda: GitSource(kernel, jobs=1)}
        store = run(f"one{number}", [make[name]() for name in order])
        found = _mentioned(store)
        assert found[TXRX] == file_id(_origin(kernel), TXRX)  # joined git's file
        assert found[NETDEV] == make_id("item", "file", NETDEV)  # no repository has it
        digests.add(digest(store))
        store.close()
    assert len(digests) == 1  # whichever came first
    # a second repository with the same path: ambiguous, the mention stays on the path alone
    digests = set()
    for number, order in enumerate(permutations(["mail", "kernel", "other"])):
        make = {
            "mail": mbox,
            "kernel": lambda: GitSource(kernel, jobs=1),
            "other": lambda: GitSource(other, jobs=1),
        }
        store = run(f"two{number}", [make[name]() for name in order])
        assert _mentioned(store)[TXRX] == make_id("item", "file", TXRX)
        digests.add(digest(store))
        store.close()
    assert len(digests) == 1
