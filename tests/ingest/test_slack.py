"""The Slack source on a small export written in Slack's format (tests/data/slack/export)."""

from __future__ import annotations

import contextlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.errors import InputError
from knotwork.ingest.base import Batch
from knotwork.ingest.slack import SlackSource
from knotwork.model import AliasKind, Flag, LinkKind, Node, NodeKind, Record
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, ingest, write_batch

EXPORT = Path(__file__).resolve().parent.parent / "data" / "slack" / "export"
TEAM = "T0TEAM001"


def records(source: SlackSource, cursor: dict[str, object] | None = None) -> list[Record]:
    return [r for batch in source.batches(cursor) for r in batch.records]


def at(items: list[Record], tail: str) -> Record:
    return next(r for r in items if r.place.endswith(tail))


def main(record: Record) -> Node:
    return next(n for n in record.nodes if n.id == record.key)


def person(uid: str) -> int:
    return Node.node_id(NodeKind.PERSON, f"slack:{TEAM}:{uid}")


def message(channel: str, ts: str) -> int:
    return Node.node_id(NodeKind.MESSAGE, f"slack:{TEAM}:{channel}:{ts}")


def links(record: Record, kind: LinkKind) -> list[tuple[int, int]]:
    return [(k.src, k.dst) for k in record.links if k.kind is kind]


MIRA = Node.person("mira.okafor@example.org").id
TOMAS = person("U01AAA0002")
NOOR = Node.person("noor@example.org").id
KIM = Node.person("kim@example.org").id


@pytest.fixture(scope="module")
def items() -> list[Record]:
    return records(SlackSource(EXPORT))


def test_users_become_people_keyed_by_email_or_by_account(items: list[Record]) -> None:
    workspace = at(items, "users.json")
    assert workspace.nodes[0].kind is NodeKind.GROUP and workspace.nodes[0].key == f"slack:{TEAM}"
    people = {n.id: n for n in workspace.nodes if n.kind is NodeKind.PERSON}
    assert set(people) == {MIRA, TOMAS, NOOR, KIM, person("U01AAA0004")}
    assert people[TOMAS].name == "Tomás Lindqvist"  # no email: keyed by the account, not the name
    assert people[NOOR].name == "نور الهدى 🌙"
    assert people[person("U01AAA0004")].flags & Flag.BOT
    aliases = {(a.kind, a.value) for a in workspace.aliases if a.person == TOMAS}
    assert aliases == {
        (AliasKind.HANDLE, f"slack:{TEAM}:U01AAA0002"),
        (AliasKind.HANDLE, f"tomas@slack:{TEAM}"),
        (AliasKind.NAME, "Tomás Lindqvist"),
    }
    assert (AliasKind.EMAIL, "mira.okafor@example.org") in {
        (a.kind, a.value) for a in workspace.aliases
    }
    assert len(links(workspace, LinkKind.MEMBER_OF)) == 5


def test_channels_are_groups_with_members(items: list[Record]) -> None:
    general = at(items, "channels.json#1")
    node = general.nodes[0]
    assert node.id == Node.node_id(NodeKind.GROUP, f"slack:{TEAM}:C01CHAN001")
    assert (node.kind, node.name, node.time) == (NodeKind.GROUP, "#general", 1614556800)
    assert node.attrs == {"topic": "Company-wide announcements", "purpose": "Everyone is here"}
    members = {src for src, dst in links(general, LinkKind.MEMBER_OF) if dst == node.id}
    assert members == {MIRA, TOMAS, NOOR, KIM}


def test_thread_mentions_reactions(items: list[Record]) -> None:
    root = at(items, "general/2021-03-01.json#2")
    root_id = message("C01CHAN001", "1614589200.000200")
    assert root.key == root_id
    assert root.texts[root_id].startswith("Welcome everyone! @Tomás Lindqvist can")
    assert links(root, LinkKind.AUTHORED) == [(MIRA, root_id)]
    assert links(root, LinkKind.MENTIONS) == [(root_id, TOMAS)]
    reacts = [(k.src, k.attrs["emoji"]) for k in root.links if k.kind is LinkKind.REACTS]
    assert sorted(reacts) == sorted([(TOMAS, "wave"), (NOOR, "wave"), (KIM, "+1")])
    reply = at(items, "general/2021-03-01.json#3")
    assert set(links(reply, LinkKind.REPLIES)) == {(reply.key, root_id), (TOMAS, MIRA)}
    assert main(reply).attrs["edited"] == 1614589900
    assert reply.texts[reply.key] == "Sure, posting it in #dev-ops today"


def test_bots_flagged_and_bot_ids_resolved(items: list[Record]) -> None:
    bot_post = at(items, "dev-ops/2021-03-01.json#1")
    assert main(bot_post).flags & Flag.BOT
    assert links(bot_post, LinkKind.AUTHORED) == [(person("U01AAA0004"), bot_post.key)]
    thanks = at(items, "dev-ops/2021-03-01.json#2")
    assert {dst for _, dst in links(thanks, LinkKind.MENTIONS)} == {person("U01AAA0004"), MIRA}


def test_edits_deletions_and_events(items: list[Record]) -> None:
    tombstone = at(items, "general/2021-03-01.json#5")
    assert main(tombstone).attrs["deleted"] and not tombstone.texts and not tombstone.links
    orphan = at(items, "general/2021-03-01.json#6")  # its replies still point at the root
    assert links(orphan, LinkKind.REPLIES) == [(orphan.key, tombstone.key)]
    original, changed = (
        at(items, "general/2021-03-01.json#7"),
        at(items, "general/2021-03-01.json#8"),
    )
    assert original.key == changed.key and original.texts[original.key] == "corrected text"
    deleted, event = at(items, "general/2021-03-01.json#9"), at(items, "general/2021-03-01.json#10")
    assert deleted.key == event.key and not deleted.texts and main(deleted).attrs["deleted"]
    join = at(items, "general/2021-03-01.json#1")
    assert links(join, LinkKind.MEMBER_OF) == [
        (KIM, Node.node_id(NodeKind.GROUP, f"slack:{TEAM}:C01CHAN001"))
    ]
    assert not join.texts
    nul = at(items, "general/2021-03-01.json#14")
    assert nul.texts[nul.key] == "nulinside" and nul.defects


def test_malformed_entries_rejected_with_their_place() -> None:
    rejected = {
        r.place.removeprefix(str(EXPORT) + "/"): r.reason
        for batch in SlackSource(EXPORT).batches(None)
        for r in batch.rejections
    }
    assert rejected == {
        "users.json#6": "not a user object with a string id",
        "channels.json#3": "members is not a list",
        "general/2021-03-01.json#11": "text is not a string but int",
        "general/2021-03-01.json#12": "not a message object but str",
        "general/2021-03-01.json#13": "bad ts 'None'",
        "dev-ops/2021-03-02.json": rejected["dev-ops/2021-03-02.json"],
        "orphans/2021-03-02.json": "not a JSON list but dict",
    }
    assert rejected["dev-ops/2021-03-02.json"].startswith("invalid JSON at line 3")


def test_store_counts_balance_and_reingest_is_idempotent(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'k.db'}")
    report = ingest(store, SlackSource(EXPORT, batch_size=4))
    assert report.balanced and report.rejected == 7
    assert report.duplicates == 2  # the edit event and the deletion event
    assert report.read == report.ingested + 9
    first = digest(store)
    again = ingest(store, SlackSource(EXPORT))
    assert (again.read, again.ingested) == (0, 0)
    with store.begin() as connection:
        connection.exec_driver_sql("DELETE FROM sources")
    fresh = ingest(store, SlackSource(EXPORT))
    # the user list and conversations are keyed by their content, not by a node: re-read
    # without a cursor, they count as ingested (and change nothing)
    assert fresh.balanced and fresh.ingested == 3 and fresh.duplicates == report.read - 10
    assert digest(store) == first
    store.close()


def test_zip_and_resume_give_the_same_graph(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(EXPORT.rglob("*.json")):
            out.write(path, "Acme Slack export/" + path.relative_to(EXPORT).as_posix())
    whole = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    ingest(whole, SlackSource(EXPORT))
    source = SlackSource(archive, batch_size=2)
    assert source.name == f"slack:{TEAM}"
    batches = list(source.batches(None))
    resumed = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    write_batch(resumed, SourceInfo.of(source), batches[0])  # killed after the first batch
    report = ingest(resumed, SlackSource(archive, batch_size=3, prefetch=True))
    assert report.read == sum(b.read for b in batches[1:])
    assert digest(resumed) == digest(whole)
    whole.close()
    resumed.close()


def test_unreadable_exports(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a Slack export"):
        SlackSource(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        SlackSource(tmp_path / "missing.zip")
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InputError, match="not a zip archive"):
        SlackSource(tmp_path / "bad.zip")
    broken = tmp_path / "broken"
    shutil.copytree(EXPORT, broken)
    (broken / "users.json").write_bytes((EXPORT / "users.json").read_bytes()[:200])
    with pytest.raises(InputError) as error:
        SlackSource(broken)
    assert error.value.place == str(broken / "users.json")
    (broken / "users.json").write_text(json.dumps({"id": "U1"}))
    with pytest.raises(InputError, match="not a JSON list but dict"):
        SlackSource(broken)


def test_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    result = CliRunner().invoke(app, ["ingest", "slack", str(EXPORT), "--db", db, "--json"])
    assert result.exit_code == 6  # some entries were rejected
    report = json.loads(result.stdout)
    assert report["source"] == "slack" and report["rejected"] == 7
    assert report["read"] == report["ingested"] + report["rejected"] + report["duplicates"]


def test_a_later_export_adds_new_people_and_days(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'k.db'}")
    later = tmp_path / "later"
    shutil.copytree(EXPORT, later)
    ingest(store, SlackSource(later))
    users = json.loads((later / "users.json").read_text())
    users.append({"id": "U01AAA0009", "team_id": TEAM, "name": "zoe", "real_name": "Zoë Adeyemi"})
    (later / "users.json").write_text(json.dumps(users))
    day = [{"type": "message", "user": "U01AAA0009", "text": "hello", "ts": "1614700000.000100"}]
    (later / "general" / "2021-03-03.json").write_text(json.dumps(day))
    report = ingest(store, SlackSource(later))
    # the changed lists are read again (their bad entries rejected again), then the new day
    assert (report.read, report.ingested, report.rejected) == (6, 4, 2)
    with store.connect() as connection:
        names = {row[0] for row in connection.exec_driver_sql("SELECT name FROM nodes")}
    assert "Zoë Adeyemi" in names and "hello" in names
    store.close()


def test_fuzzed_entries_raise_only_bad_entry() -> None:
    from chatfuzz import mutations

    from knotwork.ingest.slack_parse import BadEntry, SlackParser

    parser = SlackParser(TEAM)
    entries = json.loads((EXPORT / "general" / "2021-03-01.json").read_text())
    entries += json.loads((EXPORT / "dev-ops" / "2021-03-01.json").read_text())
    users = json.loads((EXPORT / "users.json").read_text())
    channels = json.loads((EXPORT / "channels.json").read_text())
    made: list[Record] = []
    for number, entry in enumerate(mutations(entries + users + channels, 3000)):
        place = f"fuzz#{number}"
        with contextlib.suppress(BadEntry):
            made.append(parser.message("C1", "g", place, entry, parser.edits([entry]), set()))
        with contextlib.suppress(BadEntry):
            parser.user(entry)
        with contextlib.suppress(BadEntry):
            made.append(parser.channel(entry, place, False)[2])
    made.append(parser.workspace_record("users.json", "v1"))
    store = Store.open("sqlite://")  # whatever the parser makes, the store takes
    ingested, duplicates = write_batch(store, SourceInfo("slack", "fuzz", "x"), Batch(made, [], {}))
    assert len(made) > 100 and ingested > 20 and ingested + duplicates == len(made)
    store.close()


def test_file_comments_of_old_exports_are_authored_by_the_commenter() -> None:
    """Exports before 2017 put a file comment's author in ``comment.user`` (seen on a real one)."""
    from knotwork.ingest.slack_parse import SlackParser

    parser = SlackParser(TEAM)
    entry = {
        "type": "message",
        "subtype": "file_comment",
        "ts": "1452876787.000018",
        "file": {"id": "F0JDJ524E"},
        "comment": {"id": "Fc0JJ16LKU", "user": "U0J8SUPPY", "comment": "Which notes app?"},
    }
    record = parser.message("C1", "general", "general/2016-01-15.json#1", entry, {}, set())
    author = parser.people.get("U0J8SUPPY").id
    assert [(k.src, k.kind) for k in record.links if k.kind is LinkKind.AUTHORED] == [
        (author, LinkKind.AUTHORED)
    ]
    assert "Which notes app?" in next(iter(record.texts.values()))
