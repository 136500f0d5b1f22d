"""The Perceval source on small items in Perceval's ``--json-line`` shape (tests/data/perceval)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.errors import InputError
from knotwork.ingest.base import Batch
from knotwork.ingest.perceval import PercevalSource
from knotwork.ingest.perceval_parse import BadItem, PercevalParser
from knotwork.model import AliasKind, LinkKind, Node, NodeKind, Record
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, ingest, write_batch

DATA = Path(__file__).resolve().parent.parent / "data" / "perceval"
ITEMS, MALFORMED = DATA / "items.jsonl", DATA / "malformed.jsonl"
GH = "https://github.com/example-org/widget"
MIRA = Node.person("mira@example.org").id
LEE = Node.person("lee@example.net").id
TOMASZ = Node.node_id(NodeKind.PERSON, "github:tomasz-w")
ANA, BEN = Node.person("ana@example.org").id, Node.person("ben@example.org").id


def by_line(path: Path) -> dict[int, Record]:
    return {
        int(r.place.rsplit(":", 1)[1]): r
        for batch in PercevalSource(path).batches(None)
        for r in batch.records
    }


def links(record: Record, kind: LinkKind) -> list[tuple[int, int]]:
    return [(k.src, k.dst) for k in record.links if k.kind is kind]


def attrs(record: Record, kind: LinkKind) -> list[dict[str, object]]:
    return [k.attrs for k in record.links if k.kind is kind]


@pytest.fixture(scope="module")
def items() -> dict[int, Record]:
    return by_line(ITEMS)


def test_github_issue(items: dict[int, Record]) -> None:
    issue = items[1]
    main = issue.nodes[0]
    assert (main.kind, main.key, main.name) == (
        NodeKind.ISSUE,
        f"{GH}#12",
        "Crash when the config file is empty",
    )
    assert issue.key == main.id and main.attrs["state"] == "closed"
    assert main.attrs["uuid"].startswith("a1b2c3")
    assert (MIRA, main.id) in links(issue, LinkKind.AUTHORED)
    assert attrs(issue, LinkKind.HANDLES) == [{"role": "assignee"}]
    comment = Node.node_id(NodeKind.MESSAGE, f"{GH}#12#c1001")
    assert (comment, main.id) in links(issue, LinkKind.REPLIES)
    assert (TOMASZ, MIRA) in links(issue, LinkKind.REPLIES)  # commenter -> issue author
    assert (MIRA, comment) in links(issue, LinkKind.REACTS)
    assert issue.texts[comment] == "Reproduced on 2.3.1."
    handles = {a.value for a in issue.aliases if a.kind is AliasKind.HANDLE}
    assert {"mira-k@github", "tomasz-w@github", "lee-ch@github"} <= handles
    assert not issue.defects


def test_github_pull_request(items: dict[int, Record]) -> None:
    pr = items[2]
    change = pr.nodes[0]
    assert (change.kind, change.key) == (NodeKind.CHANGE, f"{GH}/pull/13")
    assert change.attrs["merged"] is True and len(change.attrs["commits"]) == 1
    states = [a.get("state") for a in attrs(pr, LinkKind.REVIEWS)]
    assert states.count("APPROVED") == 2 and states.count("CHANGES_REQUESTED") == 2
    assert (LEE, change.id) in links(pr, LinkKind.REVIEWS)
    reviews = [n for n in pr.nodes if n.kind is NodeKind.REVIEW]
    assert [r.key.rsplit("-", 1)[1] for r in reviews] == ["501", "502"]
    roles = sorted(str(a["role"]) for a in attrs(pr, LinkKind.HANDLES))
    assert roles == ["merged", "requested_reviewer"]
    first = Node.node_id(NodeKind.MESSAGE, f"{GH}/pull/13#r9001")
    answer = Node.node_id(NodeKind.MESSAGE, f"{GH}/pull/13#r9002")
    assert (answer, first) in links(pr, LinkKind.REPLIES)  # in_reply_to_id
    assert (TOMASZ, LEE) in links(pr, LinkKind.REPLIES)
    assert next(n for n in pr.nodes if n.id == first).attrs["path"] == "src/widget/config.py"
    # the pull request's conversation (issues category) is a thread of the same change
    thread = items[3]
    assert thread.nodes[0].kind is NodeKind.THREAD
    assert (thread.nodes[0].id, change.id) in links(thread, LinkKind.REPLIES)


def test_gitlab(items: dict[int, Record]) -> None:
    issue, merge = items[4], items[5]
    assert issue.nodes[0].key == "https://gitlab.com/example-group/parser#4"
    assert issue.nodes[0].attrs["system_notes"] == 1
    noor = Node.node_id(NodeKind.PERSON, "gitlab:gitlab.com:noor.h")
    jo = Node.node_id(NodeKind.PERSON, "gitlab:gitlab.com:jo.b")
    assert (noor, issue.nodes[0].id) in links(issue, LinkKind.AUTHORED)
    assert (jo, noor) in links(issue, LinkKind.REPLIES)
    assert attrs(issue, LinkKind.REACTS) == [{"emoji": "thumbsup"}]
    assert {a.value for a in issue.aliases if a.kind is AliasKind.NAME} >= {"نور حداد"}
    assert merge.nodes[0].kind is NodeKind.CHANGE and merge.nodes[0].key.endswith("!9")
    assert sorted(str(a["role"]) for a in attrs(merge, LinkKind.HANDLES)) == [
        "merged",
        "requested_reviewer",
    ]
    assert (jo, Node.node_id(NodeKind.MESSAGE, merge.nodes[0].key + "#note_7101")) in links(
        merge, LinkKind.REACTS
    )


def test_gerrit(items: dict[int, Record]) -> None:
    review = items[6]
    change = review.nodes[0]
    assert (change.kind, change.key, change.time) == (
        NodeKind.CHANGE,
        "review.example.org/4711",
        1684000000,
    )
    assert change.attrs["project"] == "core/storage"
    assert (ANA, change.id) in links(review, LinkKind.AUTHORED)
    scores = {(a["patchset"], a["label"], a["score"]) for a in attrs(review, LinkKind.REVIEWS)}
    assert scores == {("1", "Code-Review", -1), ("2", "Code-Review", 2), ("2", "Verified", 1)}
    assert (BEN, ANA) in links(review, LinkKind.REPLIES)
    assert (BEN, change.id) in links(review, LinkKind.REVIEWS)


def test_discourse_and_mail(items: dict[int, Record]) -> None:
    topic = items[7]
    assert topic.nodes[0].kind is NodeKind.THREAD and topic.nodes[0].name.startswith("How do I")
    pat = Node.node_id(NodeKind.PERSON, "discourse:discuss.example.org:pat")
    sam = Node.node_id(NodeKind.PERSON, "discourse:discuss.example.org:samr")
    assert (pat, topic.nodes[0].id) in links(topic, LinkKind.AUTHORED)
    assert (sam, pat) in links(topic, LinkKind.REPLIES) and (pat, sam) in links(
        topic, LinkKind.REPLIES
    )
    post = Node.node_id(NodeKind.MESSAGE, "https://discuss.example.org/t/321#p1002")
    assert topic.texts[post] == "Settings → Keys."
    plan, reply = items[8], items[9]
    # keyed as the mbox source keys a message: the same message read both ways is one node
    assert plan.key == Node.node_id(NodeKind.MESSAGE, "plan-2.4@example.org")
    assert (ANA, plan.key) in links(plan, LinkKind.AUTHORED)
    assert (BEN, reply.key) in links(reply, LinkKind.AUTHORED)  # "ben at example.org"
    assert (reply.key, plan.key) in links(reply, LinkKind.REPLIES)
    assert plan.texts[plan.key] == "Proposed freeze: June 20.\n"


def test_rejections_name_file_and_line() -> None:
    rejected = {
        int(r.place.rsplit(":", 1)[1]): r.reason
        for batch in PercevalSource(ITEMS).batches(None)
        for r in batch.rejections
    }
    assert rejected == {10: "category 'issue' of backend 'jira' is not supported"}
    bad = {
        int(r.place.rsplit(":", 1)[1]): r.reason
        for batch in PercevalSource(MALFORMED).batches(None)
        for r in batch.rejections
    }
    assert bad == {
        2: "not a JSON object",
        3: "data is missing or not an object",
        4: "backend_name or category missing or not a string",
        5: "data has no number",
        9: "message without a Message-ID",
        10: bad[10],
        11: "invalid UTF-8 at byte 0",
        12: bad[12],
    }
    assert bad[10].startswith("invalid JSON")  # a raw NUL inside a string
    assert bad[12].endswith("(last line, no newline: truncated?)")
    kept = by_line(MALFORMED)
    assert sorted(kept) == [1, 6, 7, 8]
    assert kept[1].aliases[-1].value == "Zoë 🦊"
    assert kept[6].nodes[0].name == "nultitle" and kept[6].texts[kept[6].key] == "ab"
    assert kept[6].defects == [f"reaction without a user on {GH}#21"] * 2
    assert kept[8].defects == ["approval score not a number on patch set 1"]


def test_counts_idempotence_and_resume(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    report = ingest(store, PercevalSource(ITEMS, batch_size=3))
    assert report.balanced and (report.read, report.ingested, report.rejected) == (10, 9, 1)
    first = digest(store)
    assert ingest(store, PercevalSource(ITEMS)).read == 0  # the cursor holds
    with store.begin() as connection:
        connection.exec_driver_sql("DELETE FROM sources")
    again = ingest(store, PercevalSource(ITEMS))
    assert again.balanced and (again.duplicates, again.ingested) == (9, 0)
    assert digest(store) == first
    resumed = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    batches = list(PercevalSource(ITEMS, batch_size=4).batches(None))
    write_batch(resumed, SourceInfo.of(PercevalSource(ITEMS)), batches[0])  # killed here
    rest = ingest(resumed, PercevalSource(ITEMS, batch_size=4, prefetch=True))
    assert rest.read == sum(b.read for b in batches[1:]) == 6
    assert digest(resumed) == first
    bad = ingest(store, PercevalSource(MALFORMED))
    assert bad.balanced and (bad.read, bad.ingested, bad.rejected) == (12, 4, 8)
    store.close()
    resumed.close()


def test_changed_file_and_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        PercevalSource(tmp_path / "none.jsonl")
    path = tmp_path / "items.jsonl"
    path.write_bytes(ITEMS.read_bytes())
    cursor = list(PercevalSource(path).batches(None))[-1].cursor
    assert cursor["line"] == 10
    path.write_bytes(MALFORMED.read_bytes())
    assert sum(b.read for b in PercevalSource(path).batches(cursor)) == 12


def test_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    result = CliRunner().invoke(app, ["ingest", "perceval", str(ITEMS), "--db", db, "--json"])
    assert result.exit_code == 6, result.output
    report = json.loads(result.stdout)
    assert (report["source"], report["read"], report["rejected"]) == ("perceval", 10, 1)


def test_fuzzed_items_raise_only_bad_item() -> None:
    from chatfuzz import mutations

    parser = PercevalParser()
    samples = [json.loads(line) for line in ITEMS.read_text().splitlines()]
    made: list[Record] = []
    reasons: list[str] = []

    def read(item: object, number: int) -> None:
        try:
            made.append(parser.item(item, f"fuzz:{number}"))
        except BadItem as exc:
            reasons.append(str(exc))

    for number, item in enumerate(mutations(samples, 1000)):
        read(item, number)
    for seed, sample in enumerate(samples[:9]):  # deep inside each backend's data
        for number, data in enumerate(mutations([sample["data"]], 200, seed)):
            read(dict(sample, data=data), number)
    assert not [r for r in reasons if r.startswith("malformed")]  # no unforeseen shape
    store = Store.open("sqlite://")  # whatever the parser makes, the store takes
    info = SourceInfo("perceval", "fuzz", "x")
    ingested, duplicates = write_batch(store, info, Batch(made, [], {}))
    assert len(made) > 1000 and ingested > 20 and ingested + duplicates == len(made)
    store.close()


def test_same_message_through_mbox_and_perceval(tmp_path: Path) -> None:
    from knotwork.ingest.mbox import MboxSource

    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    assert ingest(store, MboxSource([DATA.parent / "mbox" / "ice-dev.mbox"])).ingested > 0
    item = {
        "backend_name": "MBox",
        "category": "message",
        "origin": "ice-dev",
        "uuid": "u",
        "data": {"From": "x <x@example.org>", "Message-ID": "<p1@example.org>"},
    }
    path = tmp_path / "mail.jsonl"
    path.write_text(json.dumps(item) + "\n")
    report = ingest(store, PercevalSource(path))
    assert (report.read, report.duplicates) == (1, 1)  # one node, whichever source read it
    store.close()
