"""The git source on small repositories built by the tests: what each commit becomes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitfactory import build_history, git
from knotwork.errors import EmptySourceError, NotARepositoryError
from knotwork.ingest.git import GitSource, file_id
from knotwork.model import AliasKind, Flag, LinkKind, Node, NodeKind, Record

ADA = "Ada Lovelace <ada@example.org>"


def fast_import(repo: Path, commits: list[dict[str, object]]) -> None:
    """Write ``commits`` (author, date, message, files, optional raw bytes) with fast-import."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    stream = bytearray()
    for number, spec in enumerate(commits, start=1):
        author = spec.get("author", ADA)
        author_bytes = author if isinstance(author, bytes) else str(author).encode()
        committer = spec.get("committer", author_bytes)
        committer_bytes = committer if isinstance(committer, bytes) else str(committer).encode()
        message = spec["message"]
        message_bytes = message if isinstance(message, bytes) else str(message).encode()
        when = int(spec.get("date", 1_600_000_000 + number * 3600))  # type: ignore[call-overload]
        stream += b"commit refs/heads/main\nmark :%d\n" % number
        stream += b"author %s %d +0000\n" % (author_bytes, when)
        stream += b"committer %s %d +0000\n" % (committer_bytes, when)
        stream += b"data %d\n%s\n" % (len(message_bytes), message_bytes)
        for merge in spec.get("merge", []):  # type: ignore[attr-defined]
            stream += b"merge %s\n" % str(merge).encode()
        for path, content in dict(spec.get("files", {})).items():  # type: ignore[call-overload]
            body = content if isinstance(content, bytes) else str(content).encode()
            stream += b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(body), body)
        stream += b"\n"
    git(repo, "fast-import", "--quiet", input=bytes(stream))


def records(source: GitSource, cursor: dict[str, object] | None = None) -> list[Record]:
    return [r for batch in source.batches(cursor) for r in batch.records]


def by_sha(items: list[Record]) -> dict[str, Record]:
    return {r.place.rsplit("@", 1)[1]: r for r in items}


def commit_node(record: Record) -> Node:
    return next(n for n in record.nodes if n.id == record.key)


def person_of(record: Record, email: str) -> Node:
    return next(n for n in record.nodes if n.kind is NodeKind.PERSON and n.key == email)


def kinds(record: Record) -> list[tuple[str, str]]:
    """(link kind, person key or file path) of every link of the record."""
    names = {n.id: n.key for n in record.nodes}
    return sorted(
        (link.kind.value, names[link.dst if link.kind is LinkKind.CHANGED else link.src])
        for link in record.links
    )


def test_commits_people_files_and_trailers(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    message = (
        "net/ice: fix queue setup\n\nLonger text.\n\n"
        "Reported-by: Grace Hopper <grace@example.org>\n"
        "Suggested-by: alan@example.org\n"
        "Tested-by: Grace Hopper <grace@example.org>\n"
        "Acked-by: Alan Turing <alan@example.org>\n"
        "Reviewed-by: Alan Turing <Alan@Example.org>\n"
        "Signed-off-by: Ada Lovelace <ada@example.org>\n"
        "Signed-off-by: Linus Maintainer <linus@example.org>\n"
    )
    fast_import(
        repo,
        [
            {"message": message, "files": {"drivers/net/ice/ice.c": "a\nb\nc\n", "README": "x\n"}},
            {
                "message": "Second\n",
                "committer": "Linus Maintainer <linus@example.org>",
                "files": {"drivers/net/ice/ice.c": "a\nB\nc\nd\n"},
            },
        ],
    )
    source = GitSource(repo)
    first, second = records(source)
    assert source.name == f"git:{git(repo, 'rev-list', '--max-parents=0', 'HEAD').decode().strip()}"
    assert kinds(first) == [
        ("acks", "alan@example.org"),
        ("authored", "ada@example.org"),
        ("changed", "README"),
        ("changed", "drivers/net/ice/ice.c"),
        ("handles", "linus@example.org"),
        ("reports", "grace@example.org"),
        ("reviews", "alan@example.org"),
        ("suggests", "alan@example.org"),
        ("tests", "grace@example.org"),
    ]
    assert commit_node(first).name == "net/ice: fix queue setup"
    assert first.texts[first.key].startswith("net/ice: fix queue setup\n\nLonger text.")
    changed = [link for link in second.links if link.kind is LinkKind.CHANGED]
    assert [link.attrs for link in changed] == [{"added": 2, "deleted": 1}]
    assert changed[0].dst == file_id(source.origin, "drivers/net/ice/ice.c")
    # the committer who is not the author handles the change
    assert ("handles", "linus@example.org") in kinds(second)
    assert not first.defects


def test_malformed_trailer_is_a_defect_and_the_commit_is_kept(tmp_path: Path) -> None:
    fast_import(
        tmp_path / "r",
        [{"message": "Fix\n\nReviewed-by: the whole team\nAcked-by: Bo <bo@example.org>\n"}],
    )
    [record] = records(GitSource(tmp_path / "r"))
    assert record.defects == ["malformed trailer on line 3: 'Reviewed-by: the whole team'"]
    assert commit_node(record).flags & Flag.DEFECT
    assert kinds(record) == [("acks", "bo@example.org"), ("authored", "ada@example.org")]


def test_mailmap_in_a_work_tree_and_in_a_bare_clone(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    fast_import(
        repo,
        [
            {
                "author": "ada <ada@old.example.org>",
                "message": "Start\n\nReviewed-by: al <al@home.example>\n",
                "files": {
                    ".mailmap": "Ada Lovelace <ada@example.org> <ada@old.example.org>\n"
                    "Alan Turing <alan@example.org> <al@home.example>\n"
                },
            }
        ],
    )
    git(repo, "checkout", "-q", "main")
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    for path in (repo, bare):
        [record] = records(GitSource(path))
        ada = person_of(record, "ada@example.org")
        assert ada.name == "Ada Lovelace"
        aliases = {(a.kind, a.value) for a in record.aliases if a.person == ada.id}
        assert (AliasKind.EMAIL, "ada@old.example.org") in aliases
        assert (AliasKind.NAME, "ada") in aliases
        assert ("reviews", "alan@example.org") in kinds(record)


def test_co_authors_bots_merges_binary_and_empty_commits(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    fast_import(
        repo,
        [
            {
                "message": "Pair work\n\nCo-authored-by: Grace Hopper <grace@example.org>\n",
                "files": {"logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00binary"},
            },
            {
                "author": "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>",
                "message": "Bump lib from 1.0 to 1.1\n",
                "files": {"requirements.txt": "lib==1.1\n"},
            },
            {"author": "CI Bot <ci-bot@example.org>", "message": "Nightly tag\n"},
            {"message": "Merge branch\n", "merge": [":1"]},
        ],
    )
    pair, bump, empty, merge = records(GitSource(repo))
    co = [link for link in pair.links if link.attrs.get("role") == "co-author"]
    assert len(co) == 1 and co[0].kind is LinkKind.AUTHORED
    binary = [link for link in pair.links if link.kind is LinkKind.CHANGED]
    assert [link.attrs for link in binary] == [{"binary": True}]
    assert all(n.flags & Flag.BOT for n in bump.nodes if n.kind is NodeKind.PERSON)
    assert person_of(empty, "ci-bot@example.org").flags & Flag.BOT
    assert kinds(empty) == [("authored", "ci-bot@example.org")]
    assert not person_of(pair, "ada@example.org").flags & Flag.BOT
    assert commit_node(merge).flags & Flag.MERGE
    assert commit_node(merge).attrs == {"merge": True}


def test_a_human_github_noreply_address_is_not_a_bot(tmp_path: Path) -> None:
    fast_import(
        tmp_path / "r",
        [{"author": "Mona <583231+mona@users.noreply.github.com>", "message": "Hi\n"}],
    )
    [record] = records(GitSource(tmp_path / "r"))
    assert not any(n.flags & Flag.BOT for n in record.nodes)


def test_dates_before_1990_and_in_the_future_are_flagged_and_kept(tmp_path: Path) -> None:
    fast_import(
        tmp_path / "r",
        [
            {"message": "Old\n", "date": 473_385_600},  # 1985
            {"message": "Normal\n", "date": 1_600_000_000},
            {"message": "Future\n", "date": 3_786_912_000},  # 2090
        ],
    )
    old, normal, future = records(GitSource(tmp_path / "r"))
    for record in (old, future):
        assert commit_node(record).flags & Flag.TIME_SUSPECT
        assert all(link.flags & Flag.TIME_SUSPECT for link in record.links)
        assert person_of(record, "ada@example.org").time is None
    assert not commit_node(normal).flags & Flag.TIME_SUSPECT
    assert person_of(normal, "ada@example.org").time == 1_600_000_000


def test_invalid_utf8_is_replaced_and_noted(tmp_path: Path) -> None:
    fast_import(
        tmp_path / "r",
        [{"author": b"Ren\xe9 Dupont <rene@example.fr>", "message": b"Caf\xe9 menu\n"}],
    )
    [record] = records(GitSource(tmp_path / "r"))
    assert "invalid UTF-8 in author name" in record.defects
    assert "invalid UTF-8 in message" in record.defects
    assert person_of(record, "rene@example.fr").name == "Ren\ufffd Dupont"


def test_quoted_paths_are_unquoted(tmp_path: Path) -> None:
    fast_import(tmp_path / "r", [{"message": "Add\n", "files": {"docs/café menu.txt": "x\n"}}])
    [record] = records(GitSource(tmp_path / "r"))
    assert ("changed", "docs/café menu.txt") in kinds(record)


def test_not_a_repository_and_empty_repository(tmp_path: Path) -> None:
    with pytest.raises(NotARepositoryError) as missing:
        GitSource(tmp_path / "missing")
    assert missing.value.place == str(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotARepositoryError, match="not a git repository"):
        GitSource(tmp_path / "plain")
    git(tmp_path, "init", "-q", "empty")
    with pytest.raises(EmptySourceError, match="no commits"):
        GitSource(tmp_path / "empty")


def _object_file(repo: Path, sha: str) -> Path:
    return repo / ".git" / "objects" / sha[:2] / sha[2:]


def test_corrupt_objects_spare_the_rest_of_the_history(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    build_history(repo, commits=40)
    shas = git(repo, "rev-list", "--reverse", "HEAD").decode().split()
    # fast-import wrote a pack: turn it into loose objects, so that single objects can go
    pack = next((repo / ".git" / "objects" / "pack").glob("*.pack"))
    data = pack.read_bytes()
    for path in pack.parent.iterdir():
        path.unlink()
    git(repo, "unpack-objects", "-q", input=data)
    # a lost blob: the commit is kept without line counts; a lost tree: the commit is rejected
    changed = git(repo, "diff-tree", "--no-commit-id", "-r", shas[10]).decode().split()
    _object_file(repo, changed[3]).unlink()
    tree = git(repo, "rev-parse", f"{shas[25]}^{{tree}}").decode().strip()
    _object_file(repo, tree).unlink()
    source = GitSource(repo, chunk_size=16)
    batches = list(source.batches(None))
    found = by_sha([r for b in batches for r in b.records])
    rejections = [r for b in batches for r in b.rejections]
    # the commit whose tree is lost, and its child (diffed against that tree), are rejected
    assert [r.place for r in rejections] == [f"{source.location}@{s}" for s in shas[25:27]]
    assert "unable to read" in rejections[0].reason or "could not" in rejections[0].reason
    assert len(found) == 38
    damaged = found[shas[10]]
    assert any(d.startswith("line counts unavailable") for d in damaged.defects)
    assert next(link.attrs for link in damaged.links if link.kind is LinkKind.CHANGED) == {}
    # other commits that diff against the lost blob lose their line counts too, no more
    defective = [r for r in found.values() if r.defects]
    assert all(d.startswith("line counts unavailable") for r in defective for d in r.defects)
    assert len(defective) <= 3


def test_cursor_makes_runs_incremental_and_resumable(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    build_history(repo, commits=50)
    source = GitSource(repo, chunk_size=10)
    batches = list(source.batches(None))
    assert batches[0].records == [] and batches[0].total == 50
    assert sum(b.read for b in batches) == 50
    final = batches[-1].cursor
    assert "pending" not in final
    # nothing new: nothing read
    assert records(GitSource(repo, chunk_size=10), final) == []
    # resuming after three finished chunks reads the other two only
    after_three = batches[3].cursor
    assert after_three["pending"]["done"] == [0, 1, 2]
    resumed = records(GitSource(repo, chunk_size=10), after_three)
    assert len(resumed) == 20
    assert {r.place for r in resumed} == {r.place for b in batches[4:] for r in b.records}
    # new commits: only they are read
    (repo / "NEWS").write_text("news\n")
    git(repo, "add", "NEWS")
    git(repo, "commit", "-q", "-m", "Add NEWS")
    [new] = records(GitSource(repo, chunk_size=10), final)
    assert ("changed", "NEWS") in kinds(new)


def test_results_do_not_depend_on_jobs_or_chunk_size(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    build_history(repo, commits=45)

    def summary(source: GitSource) -> list[tuple[str, list[tuple[str, str]]]]:
        return sorted((r.place, kinds(r)) for r in records(source))

    expected = summary(GitSource(repo, jobs=1, chunk_size=1000))
    assert len(expected) == 45
    assert summary(GitSource(repo, jobs=2, chunk_size=7)) == expected
    assert summary(GitSource(repo, jobs=3, chunk_size=1)) == expected


def test_all_branches_and_since(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    build_history(repo, commits=20)
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "topic.txt").write_text("topic\n")
    git(repo, "add", "topic.txt")
    git(repo, "commit", "-q", "-m", "Topic work")
    git(repo, "checkout", "-q", "main")
    assert len(records(GitSource(repo))) == 20
    assert len(records(GitSource(repo, all_branches=True))) == 21
    since = records(GitSource(repo, since="2010-01-04T00:00:00Z"))
    assert 0 < len(since) < 20


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_repository_of_another_user_is_not_trusted_silently(tmp_path: Path) -> None:
    repo = tmp_path / "theirs"
    build_history(repo, commits=2)
    for path in [repo, *repo.rglob("*")]:
        os.chown(path, 65534, 65534)
    with pytest.raises(NotARepositoryError, match="dubious ownership"):
        GitSource(repo)
