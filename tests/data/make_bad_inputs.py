"""Write the ``bad-inputs`` fixtures of each source (run: ``python tests/data/make_bad_inputs.py``).

Each holds, among valid records, the malformed inputs every source must survive: a truncated
last record, wrong JSON types, a huge field, NUL bytes, right-to-left and emoji names. The
fixtures are committed; this script documents how they were made and remakes them.
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent
HUGE = "x" * 120_000
RTL = "\u202eفرح رحمن 🌙"  # a right-to-left override, Arabic letters and an emoji


def _lines(values: list[object]) -> list[bytes]:
    return [json.dumps(v, ensure_ascii=False).encode() for v in values]


def mattermost() -> None:
    site = {"team": "platform", "channel": "town-square"}
    lines = _lines(
        [
            {"type": "version", "version": 1},
            {"type": "team", "team": {"name": "platform", "display_name": "Platform", "type": "O"}},
            {
                "type": "channel",
                "channel": {
                    **{"team": "platform"},
                    "name": "town-square",
                    "display_name": "Town Square",
                    "type": "O",
                },
            },
            {
                "type": "user",
                "user": {
                    "username": "nul\u0000byte",
                    "email": "nul@example.org",
                    "first_name": "Nu\u0000l",
                    "last_name": "Byte",
                    "teams": [],
                },
            },
            {
                "type": "user",
                "user": {
                    "username": "farah",
                    "email": "farah@example.org",
                    "first_name": "فرح",
                    "last_name": "\u202eرحمن 🌙",
                    "teams": [{"name": "platform", "channels": [{"name": "town-square"}]}],
                },
            },
            {
                "type": "post",
                "post": {
                    **site,
                    "user": "farah",
                    "message": "hello " + HUGE,
                    "create_at": 1709546400000,
                },
            },
            {"type": "post", "post": "not an object"},
            {
                "type": "post",
                "post": {
                    **site,
                    "user": "farah",
                    "message": "مرحبا 👋 @nul",
                    "create_at": 1709546500000,
                },
            },
            {
                "type": "post",
                "post": {**site, "user": "farah", "message": "when?", "create_at": "soon"},
            },
            {
                "type": "post",
                "post": {
                    **site,
                    "user": ["farah"],
                    "message": "whose?",
                    "create_at": 1709546600000,
                },
            },
            {
                "type": "channel",
                "channel": {
                    "team": "platform",
                    "name": "🔥-ops",
                    "display_name": "\u202eops",
                    "type": "O",
                },
            },
            {
                "type": "post",
                "post": {
                    **site,
                    "user": "farah",
                    "message": "after the bad ones",
                    "create_at": 1709546700000,
                    "replies": [
                        {"user": "nul\u0000byte", "message": "re", "create_at": 1709546800000}
                    ],
                },
            },
        ]
    )
    lines.insert(9, b'{"type":"post","post":{"team":"platform"\x00}}')  # a raw NUL byte
    lines.insert(10, b'\xff\xfe{"type":"post"}')  # not UTF-8
    body = b"\n".join(lines) + b'\n{"type":"post","post":{"team":"platform","chan'
    (DATA / "mattermost" / "bad-inputs.jsonl").write_bytes(body)


def orgchart() -> None:
    rows = [
        "employee,full name,mail,department,boss,job title",
        "2001,Ingrid Halvorsen,ingrid@example.org,Executive,,Chief Executive",
        "2002,Nu\x00ll Byte,nul@example.org,Engineering,2001,Engineer",
        "2003,Long Title,,Engineering,2001," + "Principal " * 8000,
        ",Nobody,,Sales,2001,Ghost",
        "2004,محمد \u202eالعلي,,Engineering,2002,Engineer",  # noqa: RUF001
        "2005,Zoë 🌱 Fischer,,Research 🔬,2001,Researcher",
        '2006,"Unclosed quote, on purpose,,Sales,2001,Seller',
        "2007,Lena Novak,lena@example.org,Sales,2001,Account Manager",
    ]
    (DATA / "orgchart" / "bad-inputs.csv").write_bytes(("\n".join(rows) + "\n").encode())


def perceval() -> None:
    def issue(number: object, title: object, login: object, name: object, body: str = "") -> object:
        return {
            "backend_name": "GitHub",
            "category": "issue",
            "origin": "https://github.com/o/r",
            "uuid": f"bad-{number}",
            "updated_on": 1700000000.0,
            "data": {
                "number": number,
                "title": title,
                "body": body,
                "created_at": "2023-11-14T22:13:20Z",
                "user_data": {"login": login, "name": name},
            },
        }

    lines = _lines(
        [
            issue(1, "fine", "ada", "Ada"),
            issue(2, "huge body", "farah", RTL, body=HUGE),
            issue(3, ["a", "list"], "ada", "Ada"),
            issue("4", "number as text", {"login": "x"}, 7),
            issue(5, "nul\u0000in title", "nul\u0000user", "Nu\u0000l"),
            {"backend_name": "GitHub", "category": "issue", "data": None},
            issue(6, "🚀 rocket", "zoë-🦊", "Zoë 🦊"),
        ]
    )
    lines.insert(3, b'{"backend_name": "GitHub", "data": {"number": 9\x00}}')
    body = b"\n".join(lines) + b'\n{"backend_name": "GitHub", "category": "issue", "da'
    (DATA / "perceval" / "bad-inputs.jsonl").write_bytes(body)


def table() -> None:
    def call(uid: object, caller: object, callees: object, topic: object) -> object:
        return {
            "uid": uid,
            "when": "2021-03-01T09:15:00Z",
            "caller_id": caller,
            "caller": RTL,
            "caller_email": None,
            "callees": callees,
            "topic": topic,
        }

    lines = _lines(
        [
            call("b1", "e1", ["e2"], "fine"),
            call("b2", "e2", ["e1"], HUGE),
            call("b3", {"id": "e1"}, ["e2"], "caller is an object"),
            call("b4", "e\u00003", ["e1", None, 5], "nul\u0000topic 🚀"),
            [1, 2, 3],
            call("b5", "e1", "e2;e3", "after the bad ones"),
        ]
    )
    body = b"\n".join(lines) + b'\n{"uid": "b6", "when": "2021-03-0'
    (DATA / "table" / "bad-inputs.jsonl").write_bytes(body)


def mbox() -> None:
    good = (
        "From farah@example.org Mon Mar  4 10:00:00 2024\n"
        "From: =?utf-8?b?{name}?= <farah@example.org>\n"
        "To: ice-dev@lists.example.org\n"
        "Subject: {subject}\n"
        "Message-ID: <{mid}@example.org>\n"
        "Date: Mon, 4 Mar 2024 10:00:00 +0000\n"
        "Content-Type: text/plain; charset=utf-8\n\n{body}\n\n"
    )
    import base64

    name = base64.b64encode(RTL.encode()).decode()
    parts = [
        good.format(name=name, subject="first 🚀", mid="b1", body="see drivers/net/ice/ice_main.c"),
        good.format(name=name, subject="huge", mid="b2", body=HUGE),
        "From nobody Mon Mar  4 10:00:00 2024\n\n\njust a body without headers\n\n",
        good.format(name=name, subject="nul\x00subject", mid="b3", body="nul\x00body"),
        "From x Mon Mar  4 10:00:00 2024\nFrom: \xff\xfe bad bytes <bad@example.org>\n"
        "Subject: wrong charset\nMessage-ID: <b4@example.org>\n"
        "Content-Type: text/plain; charset=x-no-such\n\n\xe9t\xe9\n\n",
        good.format(name=name, subject="Re: first 🚀", mid="b5", body="after the bad ones"),
        "From x Mon Mar  4 10:00:00 2024\nFrom: cut <cut@example.org>\nSubject: trunc",
    ]
    data = "".join(parts).encode("utf-8", "surrogateescape")
    data = data.replace("\xff\xfe".encode(), b"\xff\xfe").replace(
        "\xe9t\xe9".encode(), b"\xe9t\xe9"
    )
    (DATA / "mbox" / "bad-inputs.mbox").write_bytes(data)


if __name__ == "__main__":
    mattermost()
    orgchart()
    perceval()
    table()
    mbox()
