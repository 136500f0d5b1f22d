"""The Mattermost source on a small bulk export (tests/data/mattermost/export.jsonl)."""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.errors import InputError
from knotwork.ingest.base import Batch
from knotwork.ingest.mattermost import MattermostSource
from knotwork.model import AliasKind, Flag, LinkKind, Node, NodeKind, Record
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, ingest, write_batch

EXPORT = Path(__file__).resolve().parent.parent / "data" / "mattermost" / "export.jsonl"
AMARA = Node.person("amara.diallo@example.org").id
JONAS = Node.person("jonas@example.org").id
LIOR = Node.node_id(NodeKind.PERSON, "mattermost:default:lior")


def records(source: MattermostSource) -> dict[int, Record]:
    found = {}
    for batch in source.batches(None):
        for record in batch.records:
            found[int(record.place.rsplit(":", 1)[1])] = record
    return found


def links(record: Record, kind: LinkKind) -> list[tuple[int, int]]:
    return [(k.src, k.dst) for k in record.links if k.kind is kind]


def group(key: str) -> int:
    return Node.node_id(NodeKind.GROUP, f"mattermost:default:{key}")


@pytest.fixture(scope="module")
def lines() -> dict[int, Record]:
    return records(MattermostSource(EXPORT))


def test_teams_channels_users(lines: dict[int, Record]) -> None:
    assert lines[2].key == group("platform")
    incidents = next(n for n in lines[4].nodes if n.id == lines[4].key)
    assert incidents.attrs == {"private": True, "header": "Pager rota in the wiki"}
    assert links(lines[4], LinkKind.MEMBER_OF) == [(lines[4].key, group("platform"))]
    assert set(links(lines[5], LinkKind.MEMBER_OF)) == {
        (AMARA, group("platform")),
        (AMARA, group("platform:town-square")),
        (AMARA, group("platform:incidents")),
    }
    lior = next(n for n in lines[7].nodes if n.kind is NodeKind.PERSON)
    assert (lior.id, lior.name) == (LIOR, "ליאור 🚀")  # no email: keyed by the account
    assert {(a.kind, a.value) for a in lines[7].aliases} == {
        (AliasKind.HANDLE, "mattermost:default:lior"),
        (AliasKind.HANDLE, "lior@mattermost:default"),
        (AliasKind.NAME, "ליאור 🚀"),
    }
    bot = next(n for n in lines[8].nodes if n.kind is NodeKind.PERSON)
    assert bot.flags & Flag.BOT
    assert 9 not in lines  # custom emoji: metadata, not counted


def test_post_with_replies_mentions_reactions(lines: dict[int, Record]) -> None:
    post = lines[10]
    root = post.key
    assert (AMARA, root) in links(post, LinkKind.AUTHORED)
    assert links(post, LinkKind.MENTIONS) == [(root, JONAS)]
    reacts = {(k.src, k.attrs["emoji"], k.time) for k in post.links if k.kind is LinkKind.REACTS}
    assert reacts == {(JONAS, "+1", 1709546460), (LIOR, "shipit", 1709546500)}
    replies = set(links(post, LinkKind.REPLIES))
    assert {(JONAS, AMARA), (LIOR, AMARA)} <= replies
    assert (AMARA, AMARA) not in replies  # a reply to oneself is no person link
    assert sum(1 for src, dst in replies if dst == root) == 3
    assert len(post.texts) == 4 and "שאלה: do we pause the cron jobs? 🤔" in post.texts.values()
    assert post.defects == ["reply 4 skipped: create_at is not a time in milliseconds"]
    edited = [n for n in post.nodes if n.attrs.get("edited")]
    assert [n.name for n in edited] == ["Reviewed, two comments inline"]


def test_bots_deleted_direct(lines: dict[int, Record]) -> None:
    alert = next(n for n in lines[11].nodes if n.id == lines[11].key)
    assert alert.flags & Flag.BOT
    webhook = next(n for n in lines[12].nodes if n.id == lines[12].key)
    assert webhook.flags & Flag.BOT and webhook.attrs["as"] == "ci"
    assert links(lines[12], LinkKind.AUTHORED) == [(JONAS, lines[12].key)]
    assert not any(n.id == JONAS for n in lines[12].nodes)  # declared by its user line
    jonas = next(n for n in lines[6].nodes if n.id == JONAS)
    assert not jonas.flags & Flag.BOT  # the webhook's owner is no bot
    deleted = lines[13]
    assert not deleted.texts and not deleted.links
    dm = group("dm:amara,jonas")
    assert lines[14].key == dm and set(links(lines[14], LinkKind.MEMBER_OF)) == {
        (AMARA, dm),
        (JONAS, dm),
    }
    direct = lines[15]
    assert direct.texts[direct.key] == "got a minute? nulbyte" and direct.defects


def test_rejections_name_the_line() -> None:
    rejected = {
        int(r.place.rsplit(":", 1)[1]): r.reason
        for batch in MattermostSource(EXPORT).batches(None)
        for r in batch.rejections
    }
    assert rejected == {
        16: "message is not a string",
        17: "user is missing",
        18: "not an object with a string type",
        19: "unknown line type 'webhook'",
        21: rejected[21],
    }
    assert rejected[21].startswith("invalid JSON")


def test_counts_idempotence_and_resume(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    report = ingest(store, MattermostSource(EXPORT, batch_size=3))
    assert report.balanced and (report.read, report.rejected) == (18, 5)
    first = digest(store)
    assert ingest(store, MattermostSource(EXPORT)).read == 0
    with store.begin() as connection:
        connection.exec_driver_sql("DELETE FROM sources")
    again = ingest(store, MattermostSource(EXPORT))
    assert again.balanced and again.ingested == 4  # user lines: never duplicates, see the docs
    assert digest(store) == first
    resumed = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    source = MattermostSource(EXPORT, batch_size=6)
    batches = list(source.batches(None))
    write_batch(resumed, SourceInfo.of(source), batches[0])  # killed after the first batch
    rest = ingest(resumed, MattermostSource(EXPORT, batch_size=6, prefetch=True))
    assert rest.read == sum(b.read for b in batches[1:])
    assert digest(resumed) == first
    store.close()
    resumed.close()


def test_zip_and_changed_file(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(EXPORT, "import.jsonl")
        out.writestr("data/attachment.bin", b"\x00\x01")
    source = MattermostSource(archive)
    assert source.location.endswith("export.zip!import.jsonl")
    assert len(records(source)) == 13
    changed = tmp_path / "export.jsonl"
    changed.write_bytes(EXPORT.read_bytes())
    cursor = list(MattermostSource(changed).batches(None))[-1].cursor
    changed.write_text('{"type":"team","team":{"name":"other"}}\n')
    assert [b.read for b in MattermostSource(changed).batches(cursor)] == [1]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        MattermostSource(tmp_path / "none.jsonl")
    empty_zip = tmp_path / "e.zip"
    with zipfile.ZipFile(empty_zip, "w") as out:
        out.writestr("readme.txt", "x")
    with pytest.raises(InputError, match=r"without a \.jsonl"):
        MattermostSource(empty_zip)
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b'{"type":"team","team":{"name":"t\xff"}}\n\x00\x00\x00\n')
    [batch] = list(MattermostSource(binary).batches(None))
    assert [r.reason[:20] for r in batch.rejections] == [
        "invalid UTF-8 at byt",
        "invalid JSON at char",
    ]


def test_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    args = ["ingest", "mattermost", str(EXPORT), "--site", "acme", "--db", db, "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 6
    report = json.loads(result.stdout)
    assert (report["source"], report["read"], report["rejected"]) == ("mattermost", 18, 5)


def test_fuzzed_lines_raise_only_bad_line() -> None:
    from chatfuzz import mutations

    from knotwork.ingest.mattermost_parse import BadLine, MattermostParser

    parser = MattermostParser("fuzz")
    samples = []
    for text in EXPORT.read_text().splitlines():
        try:
            samples.append(json.loads(text))
        except ValueError:
            continue
    made: list[Record] = []
    for number, line in enumerate(mutations(samples, 3000)):
        with contextlib.suppress(BadLine):
            record = parser.line(line, f"fuzz:{number}")
            if record is not None:
                made.append(record)
    store = Store.open("sqlite://")  # whatever the parser makes, the store takes
    ingested, duplicates = write_batch(
        store, SourceInfo("mattermost", "fuzz", "x"), Batch(made, [], {})
    )
    assert len(made) > 100 and ingested > 20 and ingested + duplicates == len(made)
    store.close()


def test_prefetch_hands_on_errors_in_order() -> None:
    from knotwork.ingest.chat import prefetched

    def failing() -> Iterator[Batch]:
        yield Batch([], [], {"n": 1})
        raise InputError("broken", place="x")

    stream = prefetched(failing())
    assert next(stream).cursor == {"n": 1}
    with pytest.raises(InputError, match="broken"):
        next(stream)
