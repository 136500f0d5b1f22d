"""The mbox source on small archives written in the real format (tests/data/mbox)."""

from __future__ import annotations

import gzip
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knotwork.cli import app
from knotwork.errors import EmptySourceError, InputError
from knotwork.ingest.mbox import MboxSource
from knotwork.model import LinkKind, Node, NodeKind
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, ingest, write_batch

DATA = Path(__file__).parent.parent / "data" / "mbox"
NOW = 1_720_000_000


def message(mid: str) -> int:
    return Node.node_id(NodeKind.MESSAGE, mid)


def person(email: str) -> int:
    return Node.person(email).id


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'k.db'}")
    yield opened
    opened.close()


@pytest.fixture()
def archive(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    shutil.copytree(DATA, folder, ignore=shutil.ignore_patterns("bad-inputs*"))  # own test
    return folder


def links(store: Store, kind: LinkKind) -> set[tuple[int, int]]:
    with store.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT src, dst FROM links WHERE kind = ?", (kind.value,)
        ).all()
    return {(row[0], row[1]) for row in rows}


def nodes(store: Store, kind: NodeKind) -> dict[str, str]:
    with store.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT key, name FROM nodes WHERE kind = ?", (kind.value,)
        ).all()
    return {row[0]: row[1] for row in rows}


def test_a_folder_of_archives_becomes_messages_threads_lists_and_replies(
    store: Store, archive: Path
) -> None:
    report = ingest(store, MboxSource([archive], now=NOW))
    # damaged 3 (1 without headers), ice-dev 6, the gzipped archive 2 (one seen in ice-dev)
    assert (report.read, report.ingested, report.rejected, report.duplicates) == (11, 9, 1, 1)
    assert report.balanced
    assert report.rejections[0].place.endswith("damaged.mbox:9")
    assert "no header fields" in report.rejections[0].reason

    messages = nodes(store, NodeKind.MESSAGE)
    assert len(messages) == 9
    assert messages["p1@example.org"] == "[PATCH] ice: fix the ring leak on reset"
    assert [key for key in messages if key.startswith("hash:")]  # the one without Message-ID
    people = nodes(store, NodeKind.PERSON)
    assert people["noa@example.co.il"] == "נועה כהן"
    assert people["rocket@example.org"] == "Release 🚀 Robot"
    assert people["bruno@example.net"] == "Bruno Díaz"
    assert "ADA@example.org".lower() in people

    groups = nodes(store, NodeKind.GROUP)
    assert groups["list:ice-dev.lists.example.org"] == "Ice driver development"
    assert "list:netdev-2024-03" in groups  # no List-Id: the file name
    assert "list:damaged" in groups
    assert (person("dora@example.org"), Node.make(NodeKind.GROUP, "list:netdev-2024-03").id) in (
        links(store, LinkKind.MEMBER_OF)
    )

    replies = links(store, LinkKind.REPLIES)
    assert (message("b1@example.net"), message("p1@example.org")) in replies
    assert (message("n1@example.co.il"), message("b1@example.net")) in replies
    # person -> person: the reply came before its parent in the archive, and after it
    assert (person("bruno@example.net"), person("ada@example.org")) in replies
    assert (person("noa@example.co.il"), person("bruno@example.net")) in replies
    assert (person("dora@example.org"), person("ada@example.org")) in replies

    thread = Node.make(NodeKind.THREAD, "p1@example.org").id
    in_thread = {src for src, dst in links(store, LinkKind.MEMBER_OF) if dst == thread}
    expected = ["p1@example.org", "b1@example.net", "n1@example.co.il", "d1@example.org"]
    # c1 has no References: joined by its subject, Re: stripped
    assert in_thread == {message(mid) for mid in [*expected, "c1@example.com"]}

    mentions = links(store, LinkKind.MENTIONS)
    ice_main = Node.make(NodeKind.FILE, "drivers/net/ice/ice_main.c").id
    txrx = Node.make(NodeKind.FILE, "drivers/net/ice/ice_txrx.c").id
    assert (message("b1@example.net"), ice_main) in mentions
    assert (message("b1@example.net"), txrx) not in mentions  # only quoted there
    assert (message("p1@example.org"), txrx) in mentions  # from the diff, a/ b/ stripped
    assert "a/drivers/net/ice/ice_txrx.c" not in nodes(store, NodeKind.FILE)
    assert (message("b1@example.net"), message("old-1@example.org")) in mentions  # lore link
    assert (message("n1@example.co.il"), message("p0@example.org")) in mentions


def test_texts_quirks_and_defects(archive: Path) -> None:
    [batch] = MboxSource([archive / "ice-dev.mbox"], now=NOW).batches(None)
    by_key = {next(n.key for n in r.nodes if n.id == r.key): r for r in batch.records}
    patch = by_key["p1@example.org"].texts[message("p1@example.org")]
    assert patch.startswith("[PATCH] ice: fix the ring leak on reset\n\nFrom the reset path")
    assert "\nFrom now on we free them" in patch  # an unescaped body From did not cut it
    assert "café ready" in by_key["n1@example.co.il"].texts[message("n1@example.co.il")]
    assert by_key["c1@example.com"].defects == [
        "unknown charset 'x-klingon-8'",
        "invalid utf-8 in body",
    ]
    assert "\ufffd" in by_key["c1@example.com"].texts[message("c1@example.com")]
    [hashed] = [r for key, r in by_key.items() if key.startswith("hash:")]
    assert "NUL bytes removed" in hashed.defects
    assert "\x00" not in hashed.texts[hashed.key]
    node = next(n for n in hashed.nodes if n.id == hashed.key)
    assert node.time == 1_709_812_800  # no Date header: the From line's date
    assert node.attrs["defects"] == hashed.defects
    multipart = by_key["a2@example.org"].texts[message("a2@example.org")]
    assert multipart == "logs for the reset bug\n\nThe dmesg is attached."  # attachment left out


def test_reingest_is_idempotent_and_duplicates_are_counted(store: Store, archive: Path) -> None:
    ingest(store, MboxSource([archive], now=NOW))
    before = digest(store)
    again = ingest(store, MboxSource([archive], now=NOW))
    assert (again.read, again.ingested) == (0, 0)  # every file already read
    with store.begin() as connection:
        connection.exec_driver_sql("DELETE FROM sources")
    lost_cursor = ingest(store, MboxSource([archive], now=NOW))
    assert (lost_cursor.read, lost_cursor.duplicates, lost_cursor.rejected) == (11, 10, 1)
    assert digest(store) == before


def test_appended_mail_is_read_incrementally(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "ice-dev.mbox"
    shutil.copy(DATA / "ice-dev.mbox", path)
    assert ingest(store, MboxSource([path], now=NOW)).ingested == 6
    with path.open("ab") as out:
        out.write(
            b"\nFrom eve@example.org Mon Mar 11 10:00:00 2024\nFrom: Eve <eve@example.org>\n"
            b"Message-ID: <e1@example.org>\nIn-Reply-To: <c1@example.com>\n\nThanks.\n"
        )
    report = ingest(store, MboxSource([path], now=NOW))
    assert (report.read, report.ingested, report.duplicates) == (1, 1, 0)
    # rewritten from scratch (head changed): read again, all duplicates but the new one
    path.write_bytes(path.read_bytes().replace(b"Bruno", b"Bruna"))
    report = ingest(store, MboxSource([path], now=NOW))
    assert (report.read, report.duplicates) == (7, 7)


def test_an_interrupted_ingest_resumes_to_the_same_store(tmp_path: Path, archive: Path) -> None:
    whole = Store.open(f"sqlite:///{tmp_path / 'whole.db'}")
    ingest(whole, MboxSource([archive], now=NOW))
    parts = Store.open(f"sqlite:///{tmp_path / 'parts.db'}")
    source = MboxSource([archive], batch_size=2, now=NOW)
    first = next(iter(source.batches(None)))
    write_batch(parts, SourceInfo.of(source), first)  # then the run is killed
    rest = ingest(parts, MboxSource([archive], batch_size=2, now=NOW))
    assert first.read + rest.read == 11
    assert digest(parts) == digest(whole)
    whole.close()
    parts.close()


def test_truncated_gzip_keeps_the_valid_messages(store: Store, tmp_path: Path) -> None:
    data = gzip.compress((DATA / "ice-dev.mbox").read_bytes())
    path = tmp_path / "cut.mbox.gz"
    path.write_bytes(data[: len(data) * 3 // 4])
    report = ingest(store, MboxSource([path], now=NOW))
    assert report.rejected == 1 and report.ingested >= 3 and report.balanced
    [rejection] = report.rejections
    assert rejection.place.startswith(f"{path}:") and "compressed file ends" in rejection.reason


def test_crlf_mboxrd_and_nested_escapes(tmp_path: Path) -> None:
    path = tmp_path / "crlf.mbox"
    path.write_bytes(
        b"From a@example.org Mon Jan  1 10:00:00 2024\r\nFrom: A <a@example.org>\r\n"
        b"Message-ID: <x@y>\r\nSubject: s\r\n\r\n>>From quoted\r\n>From escaped\r\n"
    )
    [batch] = MboxSource([path], now=NOW).batches(None)
    [record] = batch.records
    assert record.texts[record.key] == "s\n\n>From quoted\nFrom escaped"


def test_bad_paths_are_clear_errors(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    with pytest.raises(InputError, match=r"notes\.txt: not an mbox file"):
        MboxSource([text])
    with pytest.raises(InputError, match="no such file"):
        MboxSource([tmp_path / "missing.mbox"])
    with pytest.raises(EmptySourceError, match="no mbox file"):
        MboxSource([tmp_path])
    broken = tmp_path / "x.mbox.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(InputError, match=r"x\.mbox\.gz: cannot be read"):
        MboxSource([broken])


def test_cli_ingest_mbox(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    runner = CliRunner()
    args = ["ingest", "mbox", str(DATA / "ice-dev.mbox"), "--db", db, "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert (report["read"], report["ingested"], report["source"]) == (6, 6, "mbox")
    result = runner.invoke(
        app, ["ingest", "mbox", str(DATA / "damaged.mbox"), "--db", db, "--json"]
    )
    assert result.exit_code == 6
    assert json.loads(result.stdout)["rejections"][0]["place"].endswith("damaged.mbox:9")
    result = runner.invoke(app, ["ingest", "mbox", str(tmp_path / "nope"), "--db", db, "--json"])
    assert result.exit_code == 3


def test_mutated_archives_never_crash(tmp_path: Path) -> None:
    """A bounded, seeded fuzz: bytes flipped, cut, duplicated; only Knotwork errors may arise."""
    rng = random.Random(5)
    sample = (DATA / "ice-dev.mbox").read_bytes()
    path = tmp_path / "fuzz.mbox"
    for _ in range(150):
        data = bytearray(sample)
        for _ in range(rng.randint(1, 40)):
            spot = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.5:
                data[spot] = rng.choice(b"\x00\n\r =?:<>@/-\xff\xc3From")
            elif choice < 0.8:
                del data[spot : spot + rng.randint(1, 30)]
            else:
                data[spot:spot] = data[rng.randrange(len(data)) :][: rng.randint(1, 60)]
        path.write_bytes(b"From x Mon Jan  1 10:00:00 2024\n" + bytes(data))
        batches = list(MboxSource([path], now=NOW).batches(None))
        read = sum(batch.read for batch in batches)
        assert read >= 1
        for batch in batches:
            for record in batch.records:
                assert record.key in {node.id for node in record.nodes}
                assert all("\x00" not in text for text in record.texts.values())


def test_paths_are_found_on_unquoted_lines_only() -> None:
    """Paths are searched line by line: at a line's start or end, after punctuation, in a diff;
    never on a quoted line, however indented."""
    from knotwork.ingest.mbox_parse import MessageParser

    body = (
        "drivers/net/ice/ice_main.c leaks on reset\n"
        "  > lib/eal/quoted.c was fine\n"
        "\t>> lib/eal/deeper.h too\n"
        "a -> lib/ring/rte_ring.h (note the arrow) and (app/test/test_ring.c)\n"
        "no path here, only a/b and 1/2\n"
        "diff --git a/doc/guides/rel_notes.rst b/doc/guides/rel_notes.rst\n"
        "--- a/doc/guides/rel_notes.rst\n"
        "ends with config/meson.build"
    )
    raw = (
        "From: Ada <ada@example.org>\nMessage-ID: <paths@example.org>\n"
        "Date: Mon, 6 Nov 2023 10:00:00 +0000\nSubject: paths\n\n" + body
    ).encode()
    record = MessageParser(now=NOW).parse(raw, "x:1", "list")
    assert record is not None
    names = {n.id: n.key for n in record.nodes if n.kind is NodeKind.FILE}
    found = {names[k.dst] for k in record.links if k.kind is LinkKind.MENTIONS}
    assert found == {
        "drivers/net/ice/ice_main.c",
        "lib/ring/rte_ring.h",
        "app/test/test_ring.c",
        "doc/guides/rel_notes.rst",
        "config/meson.build",
    }
