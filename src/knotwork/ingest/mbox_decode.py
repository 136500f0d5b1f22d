"""Decoding one raw e-mail message: header fields, encoded words, charsets, the text/plain body.

A small, forgiving reader for what an mbox archive holds: header fields are unfolded and split
by hand (fast for the common, simple message), encoded words (RFC 2047) and bodies are decoded
with their declared charset, and anything that cannot be decoded is decoded with replacement
characters and noted in ``defects``, never fatal. Multipart messages are handed to the standard
library's :mod:`email` parser to find their first text/plain part.

>>> head = parse_headers(b"Subject: =?utf-8?q?caf=C3=A9?=\\nFrom: Ada <ada@example.org>", [])
>>> decode_words(head["subject"], [])
'café'
>>> body_text(head, b"Hello", [])
'Hello'
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import re
from email.message import Message

#: A header field name: printable ASCII except the colon and the space.
HEADER_LINE = re.compile(rb"^([!-9;-~]+)[ \t]*:")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")
_PARAM = re.compile(r";\s*([\w.-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)")
_QP_SOFT = re.compile(rb"=\r?\n")

#: Header fields the mbox source reads (lowercase); others are skipped unread.
WANTED = frozenset(
    {
        "message-id",
        "in-reply-to",
        "references",
        "from",
        "subject",
        "date",
        "list-id",
        "x-mailing-list",
        "list-post",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
    }
)


_WANTED_FIELD = re.compile(
    rb"^(" + b"|".join(name.encode() for name in sorted(WANTED)) + rb")[ \t]*:(.*(?:\n[ \t].*)*)",
    re.M | re.I,
)
_WANTED_TEXT = re.compile(_WANTED_FIELD.pattern.decode(), re.M | re.I | re.A)
_SPACE = " \t\n\r\x0b\x0c"  # what bytes.strip() strips
#: A line that is neither a header field nor the fold of one, searched in the header block
#: with a newline put in front: a literal newline is found fast, a ``^`` of ``re.M`` is tried
#: at every byte.
_MALFORMED = re.compile(rb"\n(?![!-9;-~]+[ \t]*:|[ \t])")


def _text(raw: bytes, what: str, defects: list[str]) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        defects.append(f"invalid UTF-8 in {what}")
        return raw.decode(errors="replace")


def parse_headers(head: bytes, defects: list[str]) -> dict[str, str]:
    """The wanted header fields of a header block (first occurrence wins), unfolded.

    >>> parse_headers(b"Subject: a\\n long one\\nX-Other: 1", [])
    {'subject': 'a long one'}
    """
    if _MALFORMED.search(b"\n" + head) is not None:
        return _parse_slowly(head, defects)
    fields: dict[str, str] = {}
    try:
        text = head.decode()
    except UnicodeDecodeError:
        text = None
    if text is not None:  # the common case: all UTF-8, decoded once
        for name, value in _WANTED_TEXT.findall(text):  # every line is a field or a fold
            key = name.lower()
            if key not in fields:
                if "\n" in value:
                    value = " ".join(part.strip(_SPACE) for part in value.split("\n"))
                fields[key] = value.strip(_SPACE)
        return fields
    for name, value in _WANTED_FIELD.findall(head):  # every line is a field or a fold
        key = name.decode("ascii").lower()
        if key not in fields:
            if b"\n" in value:
                value = b" ".join(part.strip() for part in value.split(b"\n"))
            fields[key] = _text(value.strip(), f"header {key}", defects)
    return fields


def _parse_slowly(head: bytes, defects: list[str]) -> dict[str, str]:
    """:func:`parse_headers` line by line, for header blocks with malformed lines."""
    fields: dict[str, str] = {}
    current: str | None = None
    parts: list[bytes] = []

    def close() -> None:
        if current is not None and current not in fields:
            value = b" ".join(p.strip() for p in parts)
            fields[current] = _text(value, f"header {current}", defects)

    for number, line in enumerate(head.split(b"\n"), 1):
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                parts.append(line)
            continue
        close()
        match = HEADER_LINE.match(line)
        if match is None:
            if number == 1 and line.startswith((b"From ", b">From ")):
                current = None  # a repeated envelope line
                continue
            defects.append(f"header block ends at malformed line {number}: {line[:80]!r}")
            current = None
            break
        name = match.group(1).decode("ascii").lower()
        current = name if name in WANTED else None
        parts = [line[match.end() :]]
    close()
    return fields


def lookup_charset(charset: str, defects: list[str]) -> str:
    """A codec name for ``charset``; unknown charsets fall back to UTF-8 (a defect).

    >>> lookup_charset("latin1", []), lookup_charset("x-unknown", [])
    ('iso8859-1', 'utf-8')
    """
    name = charset.strip().strip('"').lower() or "utf-8"
    if name in ("us-ascii", "ascii", "utf-8", "utf8"):
        return "utf-8"  # a superset: undeclared 8-bit text is most often UTF-8
    try:
        return codecs.lookup(name).name
    except LookupError:
        defects.append(f"unknown charset {name[:40]!r}")
        return "utf-8"


def decode_bytes(raw: bytes, charset: str, what: str, defects: list[str]) -> str:
    """``raw`` decoded as ``charset``; undecodable bytes become U+FFFD and a defect."""
    codec = lookup_charset(charset, defects)
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        defects.append(f"invalid {codec} in {what}")
        return raw.decode(codec, errors="replace")


def _decode_word(match: re.Match[str], defects: list[str]) -> str:
    charset, encoding, payload = match.groups()
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
    try:
        if encoding in "bB":
            raw = base64.b64decode(payload + "=" * (-len(payload) % 4))
        else:
            raw = binascii.a2b_qp(payload.replace("_", " ").encode("ascii", "replace"))
    except (binascii.Error, ValueError):
        defects.append("malformed encoded word")
        return match.group(0)
    return decode_bytes(raw, charset, "an encoded word", defects)


def decode_words(value: str, defects: list[str]) -> str:
    """``value`` with its RFC 2047 encoded words decoded (whitespace between them dropped).

    >>> decode_words("=?iso-8859-1?q?Ren=E9?= =?utf-8?b?w6k=?= x", [])
    'René\u00e9 x'
    """
    if "=?" not in value:
        return value
    value = _BETWEEN_WORDS.sub(r"\1\2", value)
    return _ENCODED_WORD.sub(lambda m: _decode_word(m, defects), value)


def content_type(fields: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The content type (lowercase, ``text/plain`` by default) and its parameters.

    >>> content_type({"content-type": 'text/plain; charset="ISO-8859-1"; format=flowed'})
    ('text/plain', {'charset': 'ISO-8859-1', 'format': 'flowed'})
    """
    value = fields.get("content-type", "")
    known = _TYPES.get(value)
    if known is None:
        kind = value.split(";", 1)[0].strip().lower() or "text/plain"
        params = {k.lower(): v.strip('"') for k, v in _PARAM.findall(value)}
        if len(_TYPES) > 10_000:
            _TYPES.clear()
        known = _TYPES[value] = (kind, params)
    return known[0], dict(known[1])


_TYPES: dict[str, tuple[str, dict[str, str]]] = {}


def _transfer_decode(body: bytes, encoding: str, defects: list[str]) -> bytes:
    encoding = encoding.strip().lower()
    if encoding == "base64":
        try:
            return binascii.a2b_base64(body)
        except binascii.Error:
            defects.append("malformed base64 body")
            cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", body)
            return binascii.a2b_base64(cleaned[: len(cleaned) // 4 * 4])
    if encoding == "quoted-printable":
        return binascii.a2b_qp(_QP_SOFT.sub(b"", body))
    return body


def _first_plain(message: Message) -> Message | None:
    for part in message.walk():
        if part.is_multipart() or part.get_content_type() != "text/plain":
            continue
        if (part.get("content-disposition") or "").strip().lower().startswith("attachment"):
            continue
        return part
    return None


def _stdlib_plain(raw: bytes, defects: list[str]) -> str:
    """The first text/plain part found by the standard library's parser (the slow path)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    part = _first_plain(message)
    if part is None:
        return ""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return decode_bytes(data, part.get_content_charset() or "utf-8", "body", defects)


def _split_parts(body: bytes, boundary: str) -> list[bytes] | None:
    """The parts of a multipart body, or None when its boundary is not found."""
    delimiter = b"\n--" + boundary.encode("ascii", "replace")
    text = b"\n" + body
    first = text.find(delimiter + b"\n")
    if first < 0:
        return None
    parts = []
    position = first + len(delimiter) + 1
    while True:
        following = text.find(delimiter, position)
        if following < 0:
            parts.append(text[position:])  # no closing delimiter: a truncated message
            return parts
        parts.append(text[position:following])
        after = following + len(delimiter)
        if text[after : after + 2] == b"--":
            return parts
        position = text.find(b"\n", after) + 1
        if position == 0:
            return parts


def _multipart_plain(
    fields: dict[str, str], body: bytes, defects: list[str], depth: int = 0
) -> str | None:
    """The first inline text/plain part of a multipart body; None to use the slow path."""
    boundary = content_type(fields)[1].get("boundary")
    parts = _split_parts(body, boundary) if boundary and depth < 8 else None
    if parts is None:
        return None
    for part in parts:
        end = part.find(b"\n\n")
        if part.startswith(b"\n"):
            head, inner = b"", part[1:]
        else:
            head, inner = (part, b"") if end < 0 else (part[:end], part[end + 2 :])
        part_fields = parse_headers(head, defects) if head else {}
        disposition = part_fields.get("content-disposition", "").strip().lower()
        if disposition.startswith("attachment"):
            continue
        kind = content_type(part_fields)[0]
        if kind.startswith("multipart/"):
            found = _multipart_plain(part_fields, inner, defects, depth + 1)
            if found is None or found:
                return found
        elif kind == "text/plain":
            return body_text(part_fields, inner, defects)
    return ""


def body_text(fields: dict[str, str], body: bytes, defects: list[str], raw: bytes = b"") -> str:
    """The text/plain body of a message (its first text/plain part if multipart), decoded.

    ``raw`` is the whole message, used for multipart messages whose parts cannot be cut by
    their boundary. Other content types give "".

    >>> mixed = {"content-type": 'multipart/mixed; boundary="b"'}
    >>> body_text(mixed, b"--b\\nContent-Type: text/html\\n\\n<p>x\\n--b\\n\\nplain\\n--b--\\n", [])
    'plain'
    """
    kind, params = content_type(fields)
    if kind.startswith("multipart/"):
        found = _multipart_plain(fields, body, defects)
        return _stdlib_plain(raw, defects) if found is None and raw else found or ""
    if kind != "text/plain":
        return ""
    data = _transfer_decode(body, fields.get("content-transfer-encoding", ""), defects)
    return decode_bytes(data, params.get("charset", "utf-8"), "body", defects)


__all__ = [
    "HEADER_LINE",
    "WANTED",
    "body_text",
    "content_type",
    "decode_bytes",
    "decode_words",
    "lookup_charset",
    "parse_headers",
]
