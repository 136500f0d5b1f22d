"""The mbox source's fast paths (escapes, slash lines, malformed headers, dates, cursor lines)
against plain line-by-line readings of the same rules."""

from __future__ import annotations

import calendar
import random
import re
from pathlib import Path

from knotwork.ingest.mbox import MboxSource, _unescape
from knotwork.ingest.mbox_decode import parse_headers
from knotwork.ingest.mbox_parse import MessageParser, _slash_lines

NOW = 1_720_000_000
_PIECES = [
    b"From ",
    b">From ",
    b">>From ",
    b"\n",
    b"\n\n",
    b" ",
    b"\t",
    b":",
    b"/",
    b"x",
    b">",
    b"Subject",
    b"From: a@b",
    b"a/b.c",
]


def _random_bytes(rng: random.Random) -> bytes:
    return b"".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 20)))


def test_unescape_takes_one_quote_from_each_escaped_line_after_the_postmark() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        raw = b"From a@example.org Mon Jan  1 10:00:00 2024\n" + _random_bytes(rng)
        first, *rest = raw.split(b"\n")
        expected = [first] + [line[1:] if re.match(rb">+From ", line) else line for line in rest]
        assert _unescape(raw) == b"\n".join(expected)


def test_slash_lines_are_the_lines_with_a_slash() -> None:
    rng = random.Random(4)
    for _ in range(3000):
        text = _random_bytes(rng).decode()
        assert _slash_lines(text) == [line for line in text.split("\n") if "/" in line]


def test_malformed_header_blocks_take_the_slow_path() -> None:
    # a header line that is no field and no fold ends the block there, with a defect
    defects: list[str] = []
    fields = parse_headers(b"Subject: a\n fold\nnot a field\nFrom: b@example.org", defects)
    assert fields == {"subject": "a fold"}
    assert defects and "malformed line 3" in defects[0]
    defects = []
    head = b"Subject: a\n fold\nX-Other: y\nFrom: b@example.org"
    assert parse_headers(head, defects) == {"subject": "a fold", "from": "b@example.org"}
    assert defects == []


def test_dates_match_the_calendar() -> None:
    rng = random.Random(5)
    parser = MessageParser(now=NOW)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    for _ in range(2000):
        year, month, day = rng.randint(1991, 2023), rng.randint(1, 12), rng.randint(1, 28)
        hour, minute, second = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        sign, zone = rng.choice("+-"), rng.randint(0, 14) * 100 + rng.choice([0, 30, 45])
        value = (
            f"Mon, {day} {months[month - 1]} {year} {hour:02d}:{minute:02d}:{second:02d}"
            f" {sign}{zone:04d}"
        )
        offset = (zone // 100 * 60 + zone % 100) * 60 * (-1 if sign == "-" else 1)
        expected = calendar.timegm((year, month, day, hour, minute, second)) - offset
        defects: list[str] = []
        assert parser._time({"date": value}, "", defects) == expected
        assert defects == []


def test_single_escapes_and_cursor_positions(tmp_path: Path) -> None:
    path = tmp_path / "escaped.mbox"
    first = (
        b"From a@example.org Mon Jan  1 10:00:00 2024\n>From a@example.org Mon Jan  1 10:00:00"
        b" 2024\nFrom: A <a@example.org>\nMessage-ID: <x@y>\nSubject: s\n\n>From escaped\n"
        b"not >From at the start\n\n\n"
    )
    second = b"From b@example.org Mon Jan  1 11:00:00 2024\nFrom: B <b@example.org>\n\nbody\n"
    path.write_bytes(first + second)
    batches = list(MboxSource([path], batch_size=1, now=NOW).batches(None))
    texts = [record.texts[record.key] for batch in batches for record in batch.records]
    assert texts == ["s\n\nFrom escaped\nnot >From at the start", "body"]
    places = [record.place for batch in batches for record in batch.records]
    assert places == [f"{path}:1", f"{path}:11"]
    entries = [batch.cursor["files"][str(path.resolve())] for batch in batches]
    assert [(entry["offset"], entry["line"]) for entry in entries] == [
        (len(first), 11),
        (len(first + second), 15),
        (len(first + second), 15),
    ]
    assert [entry["done"] for entry in entries] == [False, False, True]
