"""Reading the rows of a table: CSV, JSON lines, a JSON array, an adjacency matrix.

Each reader yields ``(place, row)`` pairs where ``row`` is a dict of column to value, or a
string saying why that record cannot be read (it becomes a rejection; reading goes on with the
next record). A problem with the whole file (no header, a missing column, not a JSON array)
raises :class:`~knotwork.errors.InputError` naming the file.

>>> rows = list(csv_rows("who,when\\nada,1\\nalan\\n", "t.csv", ",", {"who"}))
>>> rows[0]
('t.csv:2', {'who': 'ada', 'when': '1'})
>>> rows[1]
('t.csv:3', 'line has 1 field, the header has 2')
>>> list(json_array_rows('[{"a": 1}, {"a": 2', "t.json"))[-1]
('t.json:1', "record 2: truncated or invalid JSON (Expecting ',' delimiter)")
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knotwork.errors import InputError

Row = dict[str, Any]
Read = tuple[str, Row | str]


def decode(path: Path) -> tuple[bytes, str, bool]:
    """The bytes and text of ``path`` (UTF-8, BOM dropped) and whether bytes were replaced."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", place=str(path)) from None
    try:
        return data, data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return data, data.decode("utf-8-sig", errors="replace"), True


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def csv_rows(text: str, place: str, delimiter: str, required: set[str]) -> Iterator[Read]:
    """The rows of a CSV text with a header line; ``required`` columns must be in the header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError("empty file: no header line", place=place) from None
    except csv.Error as exc:
        raise InputError(f"unreadable header line: {exc}", place=place) from None
    missing = sorted(required - set(header))
    if missing:
        raise InputError(
            f"column {missing[0]!r} is not in the header (has: {', '.join(header)})",
            place=place,
        )
    line = reader.line_num
    while True:
        start = line + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            yield f"{place}:{start}", f"unreadable CSV: {exc}"
            continue
        line = reader.line_num
        if not fields or fields == [""]:
            continue
        if len(fields) != len(header):
            yield (
                f"{place}:{start}",
                f"line has {_plural(len(fields), 'field')}, the header has {len(header)}",
            )
            continue
        yield f"{place}:{start}", dict(zip(header, fields, strict=True))


def jsonl_rows(text: str, place: str) -> Iterator[Read]:
    """The objects of a JSON lines text, one per non-blank line."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield f"{place}:{number}", f"invalid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(value, dict):
            yield f"{place}:{number}", f"a JSON {_json_type(value)}, expected an object"
            continue
        yield f"{place}:{number}", value


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def json_array_rows(text: str, place: str) -> Iterator[Read]:
    """The objects of a JSON array, decoded one by one: a truncated file keeps its head."""
    decoder = json.JSONDecoder()
    length, position = len(text), 0
    while position < length and text[position].isspace():
        position += 1
    if position == length:
        raise InputError("empty file: expected a JSON array", place=place)
    if text[position] != "[":
        if text[position] == "{":  # a JSON lines file named .json
            yield from jsonl_rows(text, place)
            return
        raise InputError("not a JSON array (expected '[')", place=place)
    position += 1
    line, counted, number = 1, 0, 0
    while True:
        while position < length and (text[position].isspace() or text[position] == ","):
            position += 1
        line += text.count("\n", counted, position)
        counted = position
        if position >= length:
            number += 1
            yield f"{place}:{line}", f"record {number}: truncated file (no closing ']')"
            return
        if text[position] == "]":
            return
        number += 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            yield f"{place}:{line}", f"record {number}: truncated or invalid JSON ({exc.msg})"
            return
        if not isinstance(value, dict):
            yield (
                f"{place}:{line}",
                f"record {number}: a JSON {_json_type(value)}, expected an object",
            )
            continue
        yield f"{place}:{line}", value


def matrix_names(
    names: str | tuple[str, ...] | None, column: str | None, beside: Path
) -> list[str] | None:
    """Row and column names of a matrix: a list, or a column of a CSV file beside the data."""
    if names is None or isinstance(names, tuple):
        return None if names is None else list(names)
    path = beside.parent / names
    _, text, _ = decode(path)
    header_text, _, _ = text.partition("\n")
    first = next(csv.reader([header_text]), [""])[0].strip()
    found = []
    for where, row in csv_rows(text, str(path), ",", {column or first}):
        if isinstance(row, str):
            raise InputError(row, place=where)
        found.append(str(row[column or first]).strip())
    return found


def matrix_rows(text: str, place: str, delimiter: str, names: list[str] | None) -> Iterator[Read]:
    """One row ``{"row", "column", "value"}`` per non-zero cell of a square matrix.

    Without ``names``, rows and columns are named ``1``, ``2``, ...; a line of the wrong width
    or a cell that is not a number is rejected.
    """
    lines = [(n, line) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    size = len(lines)
    if names is not None and len(names) != size:
        raise InputError(f"{size} matrix lines but {len(names)} names", place=place)
    labels = names or [str(i) for i in range(1, size + 1)]
    for index, (number, line) in enumerate(lines):
        cells = [c.strip() for c in line.split(delimiter)]
        if len(cells) != size:
            yield f"{place}:{number}", f"line has {_plural(len(cells), 'cell')}, expected {size}"
            continue
        for column, cell in enumerate(cells):
            try:
                value = float(cell)
            except ValueError:
                yield f"{place}:{number}", f"column {column + 1}: {cell[:40]!r} is not a number"
                continue
            if value:
                row = {"row": labels[index], "column": labels[column], "value": cell}
                yield f"{place}:{number}", row


__all__ = [
    "Read",
    "Row",
    "csv_rows",
    "decode",
    "json_array_rows",
    "jsonl_rows",
    "matrix_names",
    "matrix_rows",
]
