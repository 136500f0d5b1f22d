"""The Perceval source on item shapes met in real Perceval output (GrimoireLab-ELK's test data):
items written before Perceval had categories, people without ``*_data``, HTML-only bodies,
encoded words, repeated posts, bot accounts (tests/data/perceval/old-shapes.jsonl, written by
hand in those shapes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knotwork.ingest.perceval import PercevalSource
from knotwork.ingest.perceval_parse import BadItem, PercevalParser, Unsupported
from knotwork.model import AliasKind, Flag, LinkKind, Node, NodeKind, Record
from knotwork.store.engine import Store
from knotwork.store.writer import ingest

SHAPES = Path(__file__).resolve().parent.parent / "data" / "perceval" / "old-shapes.jsonl"
HANA, OMAR = Node.person("hana@example.org").id, Node.person("omar@example.org").id
LI = Node.person("li@example.org").id
GERRIT = "review.example.org/5150"


def links(record: Record, kind: LinkKind) -> list[tuple[int, int]]:
    return [(k.src, k.dst) for k in record.links if k.kind is kind]


def roles(record: Record) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for k in record.links:
        if "role" in k.attrs:
            found.setdefault(str(k.attrs["role"]), []).append(k.src)
    return found


def people(record: Record) -> set[str]:
    return {n.key for n in record.nodes if n.kind is NodeKind.PERSON}


@pytest.fixture(scope="module")
def shapes() -> dict[int, Record]:
    return {
        int(r.place.rsplit(":", 1)[1]): r
        for batch in PercevalSource(SHAPES).batches(None)
        for r in batch.records
    }


def test_items_without_a_category_are_of_their_backends_only_one() -> None:
    rejected = {
        int(r.place.rsplit(":", 1)[1]): r.reason
        for batch in PercevalSource(SHAPES).batches(None)
        for r in batch.rejections
    }
    # Gerrit, Pipermail, Gmane and Discourse items without a category are read; a GitHub one
    # is not guessed (GitHub has several categories)
    assert rejected == {8: "backend_name or category missing or not a string"}
    jira = {"backend_name": "Jira", "backend_version": "0.1.0", "data": {"key": "R-1"}}
    with pytest.raises(Unsupported, match=r"^backend 'jira' is not supported$"):
        PercevalParser().item(jira, "x:1")  # a backend this source never reads: skipped


def test_gerrit_review_of_an_early_perceval(shapes: dict[int, Record]) -> None:
    review = shapes[1]
    change = review.nodes[0]
    assert (change.kind, change.key, change.name) == (
        NodeKind.CHANGE,
        GERRIT,
        "Bind ports to routers before deleting them",
    )
    assert review.texts[change.id].startswith("Bind ports to routers before deleting them\n\nA")
    assert (HANA, change.id) in links(review, LinkKind.AUTHORED)
    # the owner's account without its email (a comment, patch set 2's author) is the owner
    assert "gerrit:review.example.org:hsato" not in people(review)
    answer = Node.node_id(NodeKind.MESSAGE, f"{GERRIT}/1#c2")
    assert (HANA, answer) in links(review, LinkKind.AUTHORED)
    # patch set 2 was uploaded by someone else; its author is the owner: no co-author
    assert roles(review) == {"uploader": [LI]}
    scores = {
        (k.src, k.attrs["label"], k.attrs["score"]) for k in review.links if "label" in k.attrs
    }
    ci = Node.node_id(NodeKind.PERSON, "gerrit:review.example.org:example-ci")
    assert scores == {(ci, "Verified", 1), (OMAR, "Code-Review", 2)}
    assert not review.defects


def test_gerrit_item_without_an_owner_is_its_first_authors() -> None:
    item = json.loads(SHAPES.read_text().splitlines()[0])
    del item["data"]["owner"]
    review = PercevalParser().item(item, "x:1")
    author = Node.node_id(NodeKind.PERSON, "gerrit:review.example.org:hsato")  # no email there
    assert (HANA, review.key) in links(review, LinkKind.AUTHORED)  # patch set 1's author
    assert author not in {n.id for n in review.nodes}
    assert sorted(roles(review)) == ["uploader"]


def test_html_only_mail_and_cooked_posts(shapes: dict[int, Record]) -> None:
    mail = shapes[2]
    assert mail.key == Node.node_id(NodeKind.MESSAGE, "router-dev-7@lists.example.org")
    assert mail.texts[mail.key] == "Ports & routers: is anyone still here?\n— Li"  # no style sheet
    assert (LI, mail.key) in links(mail, LinkKind.AUTHORED)
    reply = shapes[3]  # Gmane, replying to the Pipermail message
    assert (reply.key, mail.key) in links(reply, LinkKind.REPLIES)
    assert (OMAR, reply.key) in links(reply, LinkKind.AUTHORED)
    topic = shapes[5]
    assert topic.nodes[0].kind is NodeKind.THREAD and topic.nodes[0].name == "Ports & routers FAQ"
    first = Node.node_id(NodeKind.MESSAGE, "https://forum.example.org/t/77#p901")
    second = Node.node_id(NodeKind.MESSAGE, "https://forum.example.org/t/77#p902")
    assert topic.texts[first] == "Where do ports & routers meet?"
    assert topic.texts[second] == "In router/ports.py \u2013 see the lock."
    assert [n.id for n in topic.nodes].count(second) == 1  # the repeated post read once
    assert links(topic, LinkKind.REPLIES).count((second, first)) == 1
    assert topic.defects == ["post 902 repeated in the topic"]


def test_nntp_article(shapes: dict[int, Record]) -> None:
    article = shapes[4]
    node = article.nodes[0]
    assert node.key == "nntp-3@news.example.org" and node.name == "Router freeze"
    assert node.time == 1468316800  # from the header "DATE"
    assert (LI, node.id) in links(article, LinkKind.AUTHORED)
    names = {a.value for a in article.aliases if a.kind is AliasKind.NAME}
    assert names == {"Li Wei"}  # the encoded word decoded


def test_github_people_without_data_fields(shapes: dict[int, Record]) -> None:
    pull = shapes[6]
    change = pull.nodes[0]
    ohaddad = Node.node_id(NodeKind.PERSON, "github:ohaddad")
    liwei = Node.node_id(NodeKind.PERSON, "github:liwei")
    # "assignees" gives only the login "hsato", whose user_data (with an email) is the author's
    assert roles(pull) == {"assignee": [HANA], "merged": [ohaddad], "requested_reviewer": [liwei]}
    assert "github:hsato" not in people(pull)
    bot = Node.node_id(NodeKind.PERSON, "github:router-lint[bot]")
    assert {(ohaddad, change.id), (bot, change.id)} <= set(links(pull, LinkKind.REVIEWS))
    flags = {n.id: n.flags for n in pull.nodes}
    assert flags[bot] & Flag.BOT and not flags[ohaddad] & Flag.BOT and not flags[HANA] & Flag.BOT


def test_gitlab_merge_request_with_one_assignee(shapes: dict[int, Record]) -> None:
    merge = shapes[7]
    assert merge.nodes[0].key == "https://gitlab.com/example-group/router!12"
    liwei = Node.node_id(NodeKind.PERSON, "gitlab:gitlab.com:liwei")
    ohaddad = Node.node_id(NodeKind.PERSON, "gitlab:gitlab.com:ohaddad")
    assert roles(merge) == {"assignee": [liwei], "merged": [ohaddad]}


def test_a_login_met_before_its_email_is_the_same_person() -> None:
    """The author has only ``user``; a later comment gives the same login with an email."""
    ada = {"login": "ada", "type": "User"}
    item = {
        "backend_name": "GitHub",
        "category": "issue",
        "origin": "https://github.com/o/r",
        "data": {
            "number": 5,
            "title": "t",
            "user": ada,
            "comments_data": [
                {"id": 1, "body": "b", "user_data": dict(ada, email="ada@example.org")},
                {"id": 2, "body": "c", "user": {"login": "bo"}},
            ],
        },
    }
    parser = PercevalParser()
    record = parser.item(item, "x:1")
    ada_id = Node.person("ada@example.org").id
    assert (ada_id, record.key) in links(record, LinkKind.AUTHORED)
    assert people(record) == {"ada@example.org", "github:bo"}
    bo = Node.node_id(NodeKind.PERSON, "github:bo")
    assert (bo, ada_id) in links(record, LinkKind.REPLIES)
    # the next item, alone, knows no email for "ada": resolution is per item, never carried
    alone = dict(item, data={"number": 6, "title": "u", "user": ada})
    assert people(parser.item(alone, "x:2")) == {"github:ada"}


def test_bot_patterns_can_be_replaced() -> None:
    item = json.loads(SHAPES.read_text().splitlines()[0])
    ci = Node.node_id(NodeKind.PERSON, "gerrit:review.example.org:example-ci")

    def ci_flags(parser: PercevalParser) -> int:
        return next(n.flags for n in parser.item(item, "x:1").nodes if n.id == ci)

    assert not ci_flags(PercevalParser()) & Flag.BOT  # not matched by the default patterns
    assert ci_flags(PercevalParser(bot_patterns=[r"\bCI <"])) & Flag.BOT


def test_bot_accounts_by_type() -> None:
    """GitHub's ``"type": "Bot"`` and GitLab's ``"bot": true``, whatever the name."""
    github = {"login": "keeper", "type": "Bot"}
    gitlab = {"username": "keeper", "name": "Keeper", "bot": True}
    items: list[dict[str, Any]] = [
        {"backend_name": "GitHub", "category": "issue", "data": {"number": 1, "user": github}},
        {"backend_name": "GitLab", "category": "issue", "data": {"iid": 1, "author": gitlab}},
    ]
    for item in items:
        record = PercevalParser(bot_patterns=[]).item(item, "x:1")
        [person] = [n for n in record.nodes if n.kind is NodeKind.PERSON]
        assert person.flags & Flag.BOT
        item["data"] = dict(item["data"], user={"login": "keeper"}, author={"username": "keeper"})
        record = PercevalParser(bot_patterns=[]).item(item, "x:1")
        assert not any(n.flags & Flag.BOT for n in record.nodes)


def test_counts_balance_in_a_store(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    report = ingest(store, PercevalSource(SHAPES, batch_size=3))
    assert report.balanced
    assert (report.read, report.ingested, report.rejected, report.duplicates) == (8, 7, 1, 0)
    assert report.defects == 1  # the repeated post
    store.close()


def test_fuzzed_shapes_raise_only_bad_item() -> None:
    from chatfuzz import mutations

    parser = PercevalParser()
    samples = [json.loads(line) for line in SHAPES.read_text().splitlines()[:7]]
    made = 0
    for seed, sample in enumerate(samples):
        for data in mutations([sample["data"]], 150, seed):
            try:
                parser.item(dict(sample, data=data), "fuzz:1")
                made += 1
            except BadItem as exc:
                assert not str(exc).startswith("malformed"), exc
    assert made > 500
