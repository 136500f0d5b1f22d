"""Perceval's git ``commit`` items: read as the git source reads the same commits, same ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gitfactory import git
from knotwork.ingest.git import GitSource, file_id
from knotwork.ingest.perceval import PercevalSource
from knotwork.ingest.perceval_git import GitOrigins
from knotwork.ingest.perceval_parse import PercevalParser
from knotwork.model import LinkKind, Node, NodeKind, Record
from knotwork.store.engine import Store
from knotwork.store.writer import ingest

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "perceval" / "git.jsonl"
ROOT = "a1" * 20
MARIA = Node.person("maria.lindqvist@example.org").id
TOMASZ = Node.person("tomasz@kowalczyk.dev").id
PRIYA = Node.person("priya.raman@example.in").id


def records(source: PercevalSource, cursor: dict[str, Any] | None = None) -> dict[int, Record]:
    return {
        int(r.place.rsplit(":", 1)[1]): r for batch in source.batches(cursor) for r in batch.records
    }


def links(record: Record, kind: LinkKind) -> set[tuple[int, int]]:
    return {(k.src, k.dst) for k in record.links if k.kind is kind}


def changed(record: Record) -> dict[int, dict[str, Any]]:
    return {k.dst: k.attrs for k in record.links if k.kind is LinkKind.CHANGED}


def test_sample_commits_people_trailers_and_files() -> None:
    batches = list(PercevalSource(SAMPLE).batches(None))
    assert sum(b.read for b in batches) == 5
    [rejection] = [r for b in batches for r in b.rejections]
    assert (
        rejection.place.endswith("git.jsonl:5") and "AuthorDate is not a date" in rejection.reason
    )
    found = {int(r.place.rsplit(":", 1)[1]): r for b in batches for r in b.records}
    root, fix, rename, merge = found[1], found[2], found[3], found[4]
    commit = next(n for n in fix.nodes if n.id == fix.key)
    assert (commit.kind, commit.key) == (NodeKind.COMMIT, "b2" * 20)
    assert commit.name == "ring: fix the size check for\tpowers of two" and not commit.attrs
    assert fix.source == "perceval" and fix.place.endswith("git.jsonl:2")
    assert links(fix, LinkKind.AUTHORED) == {(TOMASZ, fix.key)}
    assert links(fix, LinkKind.REVIEWS) == {(MARIA, fix.key)}
    assert links(fix, LinkKind.ACKS) == {(PRIYA, fix.key)}
    assert links(fix, LinkKind.HANDLES) == {(MARIA, fix.key)}  # signed off and committed: once
    # the first commit has no parents: files are keyed by it, as the git source keys them
    assert changed(root) == {
        file_id(ROOT, "lib/ring/ring.c"): {"added": 120, "deleted": 0},
        file_id(ROOT, "README.md"): {"added": 4, "deleted": 0},
        file_id(ROOT, "doc/logo.png"): {"binary": True},
    }
    assert changed(rename) == {  # the old path without counts, the new with Perceval's
        file_id(ROOT, "lib/ring/ring.c"): {},
        file_id(ROOT, "lib/ring/rte_ring.c"): {"added": 0, "deleted": 0},
    }
    merge_node = next(n for n in merge.nodes if n.id == merge.key)
    assert merge_node.attrs == {"merge": True} and not changed(merge)


def test_resume_keeps_the_root_learned_before_the_cursor() -> None:
    first = next(iter(PercevalSource(SAMPLE, batch_size=2).batches(None)))
    assert first.cursor["line"] == 2
    later = records(PercevalSource(SAMPLE, batch_size=2), first.cursor)
    assert set(later) == {3, 4}
    assert file_id(ROOT, "lib/ring/rte_ring.c") in changed(later[3])


def test_without_a_root_files_are_keyed_by_the_origin() -> None:
    line = json.loads(SAMPLE.read_text().splitlines()[1])
    record = PercevalParser().item(line, "x:1")
    assert set(changed(record)) == {file_id(line["origin"], "lib/ring/ring.c")}


# -- the same commits read by the git source -------------------------------------------------

MAILMAP = "Tomasz Kowalczyk <tomasz@kowalczyk.dev> <tk@old.example>\n"
TRAILERS = "\n\nSigned-off-by: Tomasz K <tk@old.example>\nReviewed-by: Maria <maria@example.org>\n"
COMMITS: list[dict[str, Any]] = [
    {
        "author": ("Maria", "maria@example.org"),
        "message": "ring: start",
        "files": {"lib/ring.c": "a\nb\nc\n", ".mailmap": MAILMAP, "logo.bin": "\x00\x01\x02"},
    },
    {
        "author": ("Tomasz K", "tk@old.example"),
        "committer": ("Maria", "maria@example.org"),
        "message": "ring: fix the check" + TRAILERS,
        "files": {"lib/ring.c": "a\nB\nc\nd\n"},
    },
    {
        "author": ("Maria", "maria@example.org"),
        "message": "doc: add a guide",
        "branch": "side",
        "files": {"doc/guide.md": "# Guide\n"},
    },
    {
        "author": ("Tomasz K", "tk@old.example"),
        "message": "ring: rename the file",
        "rename": ("lib/ring.c", "lib/rte_ring.c"),
    },
    {"author": ("Maria", "maria@example.org"), "message": "Merge branch 'side'", "merge": 3},
]


def _repository(repo: Path) -> dict[int, str]:
    """Write :data:`COMMITS` with fast-import; return the sha of each mark."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    stream = bytearray()
    for mark, spec in enumerate(COMMITS, start=1):
        when = 1_736_150_000 + mark * 3600
        ref = "refs/heads/" + spec.get("branch", "main")
        stream += f"commit {ref}\nmark :{mark}\n".encode()
        for role in ("author", "committer"):
            name, email = spec.get(role, spec["author"])
            stream += f"{role} {name} <{email}> {when} +0100\n".encode()
        message = spec["message"].encode()
        stream += b"data %d\n%s\n" % (len(message), message)
        if spec.get("branch"):
            stream += b"from :2\n"
        elif mark > 3:
            stream += b"from :%d\n" % (mark - 1 if mark != 4 else 2)
        if "merge" in spec:
            stream += b"merge :%d\n" % spec["merge"]
        for path, content in spec.get("files", {}).items():
            body = content.encode()
            stream += b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(body), body)
        if "rename" in spec:
            stream += "R {} {}\n".format(*spec["rename"]).encode()
        stream += b"\n"
    marks = repo / "marks"
    git(repo, "fast-import", "--quiet", f"--export-marks={marks}", input=bytes(stream))
    git(repo, "checkout", "-q", "main")
    return {int(m[1:]): sha for m, sha in (line.split() for line in marks.read_text().splitlines())}


def _git_date(when: int) -> str:
    stamp = datetime.fromtimestamp(when, UTC).astimezone(datetime.strptime("+0100", "%z").tzinfo)
    return f"{stamp:%a %b} {stamp.day} {stamp:%H:%M:%S %Y %z}"


def _items(repo: Path, shas: dict[int, str]) -> list[dict[str, Any]]:
    """The commits as Perceval's git backend writes them (mailmapped, renames detected)."""
    lines = {"lib/ring.c": 3}
    mapped = {"tk@old.example": "Tomasz Kowalczyk <tomasz@kowalczyk.dev>"}
    out = []
    for mark, spec in enumerate(COMMITS, start=1):
        when = _git_date(1_736_150_000 + mark * 3600)
        name, email = spec["author"]
        author = mapped.get(email, f"{name} <{email}>")
        committer = "{} <{}>".format(*spec.get("committer", spec["author"]))
        parents = [] if mark == 1 else [shas[2 if mark in (3, 4) else mark - 1]]
        parents += [shas[spec["merge"]]] if "merge" in spec else []
        files = []
        for path, content in spec.get("files", {}).items():
            added, removed = (content.count("\n"), 0) if path not in lines or mark == 1 else (2, 1)
            binary = "\x00" in content
            files.append(
                {
                    "action": "A" if mark == 1 or path not in lines else "M",
                    "added": "-" if binary else str(added),
                    "removed": "-" if binary else str(removed),
                    "file": path,
                }
            )
        if "rename" in spec:
            old, new = spec["rename"]
            files.append({"action": "R100", "added": "0", "removed": "0", "file": old})
            files[-1]["newfile"] = new
        data = {
            "commit": shas[mark],
            "parents": parents,
            "Author": author,
            "AuthorDate": when,
            "Commit": committer,
            "CommitDate": when,
            "message": spec["message"].strip(),
            "files": files,
        }
        out.append({"backend_name": "Git", "category": "commit", "origin": str(repo), "data": data})
    return out


def _native(repo: Path) -> dict[int, Record]:
    return {r.key: r for batch in GitSource(repo, jobs=1).batches(None) for r in batch.records}


def test_same_nodes_links_and_people_as_the_git_source(tmp_path: Path) -> None:
    repo = tmp_path / "widget"
    shas = _repository(repo)
    native = _native(repo)
    parser = PercevalParser(GitOrigins())
    read = {r.key: r for r in (parser.item(i, f"x:{n}") for n, i in enumerate(_items(repo, shas)))}
    assert set(read) == set(native) == {Node.node_id(NodeKind.COMMIT, s) for s in shas.values()}
    for key, mine in read.items():
        theirs = native[key]
        assert {n.id: n for n in mine.nodes} == {n.id: n for n in theirs.nodes}
        assert {k.id for k in mine.links} == {k.id for k in theirs.links}
        assert set(mine.aliases) <= set(theirs.aliases)
        assert mine.texts == theirs.texts
        if key != Node.node_id(NodeKind.COMMIT, shas[4]):  # a rename: Perceval's counts differ
            assert {k.id: k for k in mine.links} == {k.id: k for k in theirs.links}
    tomasz = Node.person("tomasz@kowalczyk.dev").id  # mailmapped, also in the trailer
    fix = read[Node.node_id(NodeKind.COMMIT, shas[2])]
    assert links(fix, LinkKind.AUTHORED) == {(tomasz, fix.key)}


def test_ingesting_both_counts_the_second_as_duplicates(tmp_path: Path, new_store: Any) -> None:
    repo = tmp_path / "widget"
    shas = _repository(repo)
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in _items(repo, shas)))
    store: Store = new_store()
    first = ingest(store, GitSource(repo, jobs=1))
    second = ingest(store, PercevalSource(path))
    assert (first.ingested, second.read, second.duplicates, second.ingested) == (5, 5, 5, 0)


def test_real_perceval_output_matches_the_git_source(tmp_path: Path) -> None:
    perceval_git = pytest.importorskip("perceval.backends.core.git")
    repo = tmp_path / "widget"
    _repository(repo)
    backend = perceval_git.Git(uri=str(repo), gitpath=str(tmp_path / "clone"))
    parser = PercevalParser(GitOrigins())
    read = {
        r.key: r for r in (parser.item(json.loads(json.dumps(i)), "x") for i in backend.fetch())
    }
    native = _native(repo)
    assert set(read) == set(native)
    for key, mine in read.items():
        assert {n.id for n in mine.nodes} == {n.id for n in native[key].nodes}
        assert {k.id for k in mine.links} == {k.id for k in native[key].links}
