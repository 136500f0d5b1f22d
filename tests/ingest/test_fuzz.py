"""Hypothesis fuzzing of every parser: only Knotwork's own errors may come out.

Each parser gets inputs of two kinds: structure-aware mutants of the real-format samples under
``tests/data`` (a part replaced, dropped or of another type, see ``chatfuzz.py``), and raw bytes
spliced into a sample. Whatever it accepts must be storable (the records go through the writer
into an in-memory store). Examples are few and deadlines off, so that the file runs in well
under 30 s; the example database is off, so that runs are repeatable (``derandomize``).
``KNOTWORK_FUZZ_EXAMPLES=500`` runs a longer hunt.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chatfuzz import mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knotwork.errors import KnotworkError
from knotwork.ingest.base import Batch, Source
from knotwork.ingest.git_parse import CommitParser
from knotwork.ingest.mattermost import MattermostSource
from knotwork.ingest.mbox import MboxSource
from knotwork.ingest.orgchart import OrgChartSource
from knotwork.ingest.perceval import PercevalSource
from knotwork.ingest.slack import SlackSource
from knotwork.ingest.tabular import TableSource
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

DATA = Path(__file__).resolve().parent.parent / "data"
FUZZ = settings(
    max_examples=int(os.environ.get("KNOTWORK_FUZZ_EXAMPLES", "25")),
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ORG = {"person": "employee", "name": "full name", "email": "mail", "unit": "department"}
ORG |= {"manager": "boss", "title": "job title"}
SPLICE = st.binary(max_size=40) | st.sampled_from(
    [b"\x00", b"\xff\xfe", b"\n", b'"', b"{", b"]", b"\r\n", b"From ", b"=?utf-8?b?", b"\\u0000"]
)


def _samples(path: Path) -> list[Any]:
    values = []
    for line in path.read_bytes().splitlines():
        try:
            values.append(json.loads(line))
        except ValueError:
            continue
    return values


def _mutants(samples: list[Any]) -> st.SearchStrategy[list[Any]]:
    """Lists of samples, each mutated one to three times by a hypothesis-drawn random."""

    def make(picks: list[int], seed: int) -> list[Any]:
        rng = random.Random(seed)
        out = []
        for pick in picks:
            value = samples[pick % len(samples)]
            for _ in range(rng.randint(1, 3)):
                value = mutate(value, rng)
            out.append(value)
        return out

    return st.builds(make, st.lists(st.integers(0, 10_000), min_size=1, max_size=8), st.integers())


def _spliced(sample: bytes) -> st.SearchStrategy[bytes]:
    """``sample`` with a few byte strings spliced in, or cut short."""

    def make(edits: list[tuple[int, int, bytes]], cut: int | None) -> bytes:
        data = bytearray(sample)
        for at, drop, piece in edits:
            spot = at % (len(data) + 1)
            data[spot : spot + drop] = piece
        return bytes(data if cut is None else data[: cut % (len(data) + 1)])

    edit = st.tuples(st.integers(0, 1 << 20), st.integers(0, 20), SPLICE)
    return st.builds(make, st.lists(edit, max_size=6), st.none() | st.integers(0, 1 << 20))


def _run(make: Callable[[], Source]) -> None:
    """Every batch of the source ``make`` opens into a fresh in-memory store; only Knotwork
    errors pass (opening the source may raise them too: a file list that cannot be read)."""
    store = Store.open("sqlite://")
    try:
        source = make()
        info = SourceInfo.of(source)
        for batch in source.batches(None):
            assert batch.read == len(batch.records) + len(batch.rejections)
            write_batch(store, info, batch)
    except KnotworkError:
        pass
    finally:
        store.close()


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _jsonl(values: list[Any]) -> bytes:
    return b"\n".join(
        json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass") for v in values
    )


MATTERMOST = _samples(DATA / "mattermost" / "export.jsonl")
PERCEVAL = (
    _samples(DATA / "perceval" / "items.jsonl")
    + _samples(DATA / "perceval" / "malformed.jsonl")
    + _samples(DATA / "perceval" / "git.jsonl")
)
TABLE_JSONL = _samples(DATA / "table" / "calls.jsonl")


@FUZZ
@given(values=_mutants(MATTERMOST), tail=SPLICE)
def test_fuzz_mattermost(folder: Path, values: list[Any], tail: bytes) -> None:
    path = folder / "mm.jsonl"
    path.write_bytes(_jsonl(MATTERMOST[:9] + values) + b"\n" + tail)
    _run(lambda: MattermostSource(path, batch_size=3))


@FUZZ
@given(values=_mutants(PERCEVAL), tail=SPLICE)
def test_fuzz_perceval(folder: Path, values: list[Any], tail: bytes) -> None:
    path = folder / "pv.jsonl"
    path.write_bytes(_jsonl(values) + b"\n" + tail)
    _run(lambda: PercevalSource(path, batch_size=3))


@FUZZ
@given(values=_mutants(TABLE_JSONL), data=_spliced((DATA / "table" / "calls.csv").read_bytes()))
def test_fuzz_table(folder: Path, values: list[Any], data: bytes) -> None:
    mapping = DATA / "table" / "calls.toml"
    (folder / "t.jsonl").write_bytes(_jsonl(values))
    (folder / "t.csv").write_bytes(data)
    _run(lambda: TableSource(folder / "t.jsonl", mapping, now=1_800_000_000))
    _run(lambda: TableSource(folder / "t.csv", mapping, now=1_800_000_000))


@FUZZ
@given(data=_spliced((DATA / "orgchart" / "people.csv").read_bytes()))
def test_fuzz_orgchart(folder: Path, data: bytes) -> None:
    (folder / "o.csv").write_bytes(data)
    _run(lambda: OrgChartSource(folder / "o.csv", columns=ORG))


@FUZZ
@given(data=_spliced((DATA / "mbox" / "ice-dev.mbox").read_bytes()))
def test_fuzz_mbox(folder: Path, data: bytes) -> None:
    (folder / "m.mbox").write_bytes(b"From x Mon Jan  1 10:00:00 2024\n" + data)
    _run(lambda: MboxSource([folder / "m.mbox"], now=1_800_000_000))


SLACK = DATA / "slack" / "export"
SLACK_FILES = {
    p.relative_to(SLACK).as_posix(): json.loads(p.read_bytes())
    for p in SLACK.rglob("*.json")
    if p.name in {"users.json", "channels.json", "2021-03-01.json"}
}


@FUZZ
@given(
    which=st.sampled_from(sorted(SLACK_FILES)),
    seed=st.integers(),
    raw=st.none() | _spliced((SLACK / "general" / "2021-03-01.json").read_bytes()),
)
def test_fuzz_slack(folder: Path, which: str, seed: int, raw: bytes | None) -> None:
    root = folder / f"slack{seed % 1000}"
    rng = random.Random(seed)
    for name, value in SLACK_FILES.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name == which:
            value = mutate(value, rng)
        text = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
        target.write_bytes(raw if raw is not None and name.endswith("01.json") else text)
    _run(lambda: SlackSource(root, batch_size=4))


# git's output is structured by git (sha, parents, dates: trusted); what people wrote (names,
# emails, message, paths) is fuzzed, without the separator bytes of LOG_FORMAT (see the report
# of issue 5: a commit message holding 0x1d or 0x1e would split wrongly).
_FREE = st.binary(max_size=30).map(lambda b: bytes(c for c in b if c not in b"\x1d\x1e\x1f\n"))
_MESSAGE = st.binary(max_size=200).map(lambda b: bytes(c for c in b if c not in b"\x1d\x1e"))


@FUZZ
@given(
    people=st.lists(_FREE, min_size=8, max_size=8),
    message=_MESSAGE | st.just(b"x\n\nSigned-off-by: Ada <ada@example.org>\nCo-authored-by: <"),
    stat=st.lists(st.tuples(st.sampled_from([b"3", b"-", b"0"]), _FREE), max_size=4),
)
def test_fuzz_git_log_parser(
    people: list[bytes], message: bytes, stat: list[tuple[bytes, bytes]]
) -> None:
    an, ae, a_name, a_email, cn, ce, c_name, c_email = people
    sha, when = b"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", b"1600000000"
    fields = [sha, b"", an, ae, a_name, a_email, when, cn, ce, c_name, c_email, when, message]
    numstat = b"".join(b"%s\t%s\t%s\n" % (n, n, path) for n, path in stat)
    output = b"\x1e" + b"\x1f".join(fields) + b"\x1d\n" + numstat
    parser = CommitParser("root", "repo", now=1_800_000_000)
    store = Store.open("sqlite://")
    try:
        records = list(parser.parse(output))
        assert len(records) == 1
        write_batch(store, SourceInfo("git", "fuzz", "repo"), Batch(records, [], {}))
    except KnotworkError:
        pass
    finally:
        store.close()
