"""The contract every source keeps (DESIGN.md, "Source"), checked on each one alike.

A source yields batches of records and never touches the database; its uids are stable, so
that ingesting the same input twice changes nothing; a run resumed from any stored cursor ends
in the same store as one uninterrupted run; every report balances
(``read = ingested + rejected + duplicates``); a bad native record is rejected with a place that
names its file and the record, and the valid records around it are still ingested.

Each source runs on a small sample of its real format that holds bad records among good ones
(``tests/data/<source>``; git on a generated history whose one commit has lost its tree).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitfactory import build_history, git
from knotwork.ingest.base import Batch, Source
from knotwork.ingest.git import GitSource
from knotwork.ingest.mattermost import MattermostSource
from knotwork.ingest.mbox import MboxSource
from knotwork.ingest.orgchart import OrgChartSource
from knotwork.ingest.perceval import PercevalSource
from knotwork.ingest.slack import SlackSource
from knotwork.ingest.tabular import TableSource
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, ingest, write_batch

DATA = Path(__file__).resolve().parent.parent / "data"
ORG_COLUMNS = {
    "person": "employee",
    "name": "full name",
    "email": "mail",
    "unit": "department",
    "manager": "boss",
    "title": "job title",
}

Factory = Callable[[int], Source]


def _git_repo(root: Path) -> Path:
    """A 30-commit history whose 20th commit lost its tree (so it, and its child, are rejected)."""
    repo = root / "repo"
    if repo.exists():
        return repo
    build_history(repo, commits=30)
    shas = git(repo, "rev-list", "--reverse", "HEAD").decode().split()
    pack = next((repo / ".git" / "objects" / "pack").glob("*.pack"))
    data = pack.read_bytes()
    for path in pack.parent.iterdir():
        path.unlink()
    git(repo, "unpack-objects", "-q", input=data)
    tree = git(repo, "rev-parse", f"{shas[19]}^{{tree}}").decode().strip()
    (repo / ".git" / "objects" / tree[:2] / tree[2:]).unlink()
    return repo


def _factory(kind: str, root: Path) -> Factory:
    if kind == "git":
        repo = _git_repo(root)
        return lambda size: GitSource(repo, jobs=1, chunk_size=size)
    if kind == "mbox":
        files = [DATA / "mbox" / "ice-dev.mbox", DATA / "mbox" / "damaged.mbox"]
        return lambda size: MboxSource(files, batch_size=size, now=1_800_000_000)
    if kind == "slack":
        return lambda size: SlackSource(DATA / "slack" / "export", batch_size=size)
    if kind == "mattermost":
        export = DATA / "mattermost" / "bad-inputs.jsonl"
        return lambda size: MattermostSource(export, batch_size=size)
    if kind == "perceval":
        return lambda size: PercevalSource(DATA / "perceval" / "malformed.jsonl", batch_size=size)
    if kind == "table":
        table, mapping = DATA / "table" / "calls.jsonl", DATA / "table" / "calls.toml"
        return lambda size: TableSource(table, mapping, batch_size=size, now=1_800_000_000)
    assert kind == "orgchart"
    chart = DATA / "orgchart" / "bad-inputs.csv"
    return lambda size: OrgChartSource(chart, columns=ORG_COLUMNS, batch_size=size)


KINDS = ["git", "mbox", "slack", "mattermost", "perceval", "table", "orgchart"]


@pytest.fixture(params=KINDS)
def make(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Factory:
    return _factory(str(request.param), tmp_path_factory.mktemp(str(request.param)))


def _open(path: Path) -> Store:
    return Store.open(f"sqlite:///{path}")


def _batches(source: Source) -> list[Batch]:
    return list(source.batches(None))


def test_yields_records_and_never_touches_the_database(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> Iterator[None]:
        raise AssertionError("a source opened the database")

    monkeypatch.setattr(Store, "open", refuse)
    monkeypatch.setattr(Store, "connect", refuse)
    monkeypatch.setattr(Store, "begin", refuse, raising=False)
    batches = _batches(make(4))
    assert sum(len(b.records) for b in batches) > 0
    for batch in batches:
        assert batch.read == len(batch.records) + len(batch.rejections)
        assert json.loads(json.dumps(batch.cursor)) == batch.cursor  # storable as it is
        for record in batch.records:
            assert record.source == batch.records[0].source and record.place, record


def test_uids_are_stable_and_ingesting_twice_changes_nothing(make: Factory, tmp_path: Path) -> None:
    first, second = _open(tmp_path / "a.db"), _open(tmp_path / "b.db")
    report = ingest(first, make(1000))
    assert report.balanced and report.ingested > 0
    before = digest(first)
    assert ingest(first, make(1000)).ingested == 0  # the cursor: nothing new to read
    # the same records written again, cursor aside: all of them are duplicates, except the
    # declarations (user lists, channel lists, org chart rows), whose key is no node of theirs:
    # the writer cannot tell them from new ones, so they count as ingested again, adding nothing
    source = make(1000)
    batches = _batches(source)
    declarations = sum(r.key not in {n.id for n in r.nodes} for b in batches for r in b.records)
    again = [write_batch(first, SourceInfo.of(source), b) for b in batches]
    assert sum(ingested for ingested, _ in again) <= declarations
    assert sum(sum(pair) for pair in again) == report.ingested + report.duplicates
    assert digest(first) == before
    # another store, other batch sizes: the same uids, the same store
    ingest(second, make(3))
    assert digest(second) == before
    first.close()
    second.close()


def test_resume_from_every_cursor_gives_the_same_store(make: Factory, tmp_path: Path) -> None:
    whole = _open(tmp_path / "whole.db")
    ingest(whole, make(1000))
    expected = digest(whole)
    whole.close()
    size = 3
    batches = _batches(make(size))
    assert len(batches) >= 2
    for stop in range(1, len(batches)):
        part = _open(tmp_path / f"part{stop}.db")
        source = make(size)
        for batch in batches[:stop]:  # then the process dies
            write_batch(part, SourceInfo.of(source), batch)
        report = ingest(part, make(size))
        assert report.balanced
        assert report.read <= sum(b.read for b in batches[stop:]) + size, stop
        assert digest(part) == expected, f"resumed after batch {stop}"
        part.close()


def test_reports_balance_and_bad_records_are_named_and_spare_the_rest(
    make: Factory, tmp_path: Path
) -> None:
    store = _open(tmp_path / "s.db")
    source = make(4)
    report = ingest(store, source)
    assert report.balanced
    assert report.read == report.ingested + report.rejected + report.duplicates
    assert report.rejected > 0 and report.ingested > 0
    files = {Path(source.location).name} | _files(source)
    for rejection in report.rejections:
        assert rejection.reason.strip(), rejection.place
        named = next((f for f in files if f in rejection.place), None)
        assert named is not None, rejection.place
        record = rejection.place[rejection.place.index(named) + len(named) :]
        assert record.strip(":#@/!") or source.kind == "slack", rejection.place
    store.close()


def _files(source: Source) -> set[str]:
    """File names a source reads besides its location (mbox: each archive; slack: each day)."""
    if isinstance(source, MboxSource):
        return {path.name for path in source.files}
    if isinstance(source, SlackSource):
        return {".json"}
    return set()


@pytest.mark.parametrize("kind", ["mattermost", "perceval", "table", "orgchart"])
def test_valid_lines_around_a_bad_one_are_ingested(kind: str, tmp_path: Path) -> None:
    """Line-based sources: the lines before and after each rejected line are records."""
    batches = _batches(_factory(kind, tmp_path)(1000))
    lines = sorted(int(r.place.rsplit(":", 1)[1]) for b in batches for r in b.records)
    bad = [int(r.place.rsplit(":", 1)[1]) for b in batches for r in b.rejections]
    inner = [line for line in bad if line < max(lines)]
    assert inner, "the sample has a bad line among good ones"
    for line in inner:
        assert any(ok < line for ok in lines) or line <= 2
        assert any(ok > line for ok in lines)
