"""The table source: interactions in a CSV, JSON lines or JSON file, or an adjacency matrix.

A :class:`~knotwork.ingest.tabular_mapping.Mapping` (a TOML file, see that module and
``docs/sources.md``) says which columns make which nodes and links. Each row is one record:
its nodes, the links between them at the row's time, aliases for persons, texts for items.

Identity: a person whose ``email`` column is mapped and filled is ``Node.person(email)``, the
same person as in every other source; otherwise a person (and any other node) is keyed by the
mapping's namespace and the native id, ``table:<namespace>:<id>``, so that tables of one data
set (``[source] name``) share their people. A row's native id is its ``uid`` column, else a
hash of the row. The row's main node (``[source] main``, else its first item) keys the record,
so a row met again is a duplicate; rows without an item are written again, which changes
nothing. The cursor holds the file's SHA-256: an unchanged file is not read again, a changed
one is read whole (rows already stored count as duplicates).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "calls.csv").write_text("caller,callee,at\\nada,alan,2024-03-01T10:00Z\\n")
>>> mapping = Mapping.from_dict({"source": {"name": "phone"},
...     "nodes": {"src": {"column": "caller", "kind": "person"},
...               "dst": {"column": "callee", "kind": "person"}},
...     "link": {"kind": "mentions"}, "time": {"column": "at", "format": "iso"}})
>>> [batch] = TableSource(folder / "calls.csv", mapping).batches(None)
>>> [record] = batch.records
>>> [(n.key, link.kind.value, link.time) for n, link in zip(record.nodes, record.links)]
[('table:phone:ada', 'mentions', 1709287200)]
"""

from __future__ import annotations

import hashlib
import json
import time as clock
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from knotwork.errors import InputError
from knotwork.ingest.base import Batch, Cursor
from knotwork.ingest.tabular_mapping import Mapping, NodeSpec
from knotwork.ingest.tabular_read import (
    Read,
    Row,
    csv_rows,
    decode,
    json_array_rows,
    jsonl_rows,
    matrix_names,
    matrix_rows,
)
from knotwork.model import (
    Alias,
    AliasKind,
    Flag,
    Link,
    Node,
    NodeKind,
    Record,
    Rejection,
    canonical_json,
    make_id,
    person_key,
)

_MIN_TIME = 631_152_000  # 1990-01-01T00:00:00Z


class RowError(Exception):
    """A row that cannot become a record; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def table_node(
    kind: NodeKind,
    namespace: str,
    native: str,
    *,
    name: str = "",
    email: str = "",
    when: int | None = None,
    flags: int = 0,
    attrs: dict[str, Any] | None = None,
) -> tuple[Node, list[Alias]]:
    """The node of a native id in a namespace, and a person's email and name aliases.

    >>> node, aliases = table_node(NodeKind.PERSON, "hr", "7", name="Ada", email="ada@x.org")
    >>> node.id == Node.person("ada@x.org").id, [a.kind.value for a in aliases]
    (True, ['email', 'name'])
    >>> table_node(NodeKind.ORG, "hr", "Legal")[0].key
    'table:hr:Legal'
    """
    if kind is NodeKind.PERSON and email:
        key = person_key(email, name)
    else:
        key = f"table:{namespace}:{native}"
    node = Node.make(kind, key, name, when, flags, attrs)
    aliases: list[Alias] = []
    if kind is NodeKind.PERSON:
        if email:
            aliases.append(Alias(AliasKind.EMAIL, email.strip().lower(), node.id))
        if name:
            aliases.append(Alias(AliasKind.NAME, name, node.id))
    return node, aliases


def parse_time(value: str, fmt: str) -> int:
    """Unix seconds from ``value`` written as ``unix``, ``unix_ms``, ``iso`` or a strptime pattern.

    Times without a zone are read as UTC.

    >>> parse_time("1700000000", "unix"), parse_time("2001-09-09T01:46:40Z", "iso")
    (1700000000, 1000000000)
    >>> parse_time("09/09/2001 01:46", "%d/%m/%Y %H:%M")
    999999960
    """
    if fmt in ("unix", "unix_ms"):
        seconds = float(value)
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return int(seconds // 1000 if fmt == "unix_ms" else seconds)
    if fmt == "iso":
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    else:
        moment = datetime.strptime(value, fmt)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


class RowBuilder:
    """Turns rows into records under a mapping, for the table ``table`` of its namespace."""

    def __init__(self, mapping: Mapping, table: str, now: int | None = None) -> None:
        self.mapping = mapping
        self.namespace = mapping.namespace
        self.table = table
        self.max_time = (int(clock.time()) if now is None else now) + 86_400
        self.main = mapping.main_role()
        self._memo: dict[tuple[object, ...], tuple[Node, list[Alias]]] = {}

    def _scalar(self, value: object, column: str, defects: list[str]) -> str:
        if isinstance(value, str):  # the common cases first
            if "\x00" not in value:
                return value.strip()
        elif type(value) is int:
            return str(value)
        if value is None:
            return ""
        if isinstance(value, bool | dict | list):
            name = {bool: "boolean", dict: "object", list: "array"}[type(value)]
            raise RowError(f"column {column!r} holds a JSON {name}, expected text or a number")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if "\x00" in text:
            text = text.replace("\x00", "")
            defects.append(f"NUL byte removed from column {column!r}")
        return text

    def _cells(self, spec: NodeSpec, row: Row, column: str, defects: list[str]) -> list[str]:
        """The values of ``column`` for ``spec``: one, or a list when ``spec.each``."""
        value = row.get(column)  # a key missing from a JSON object reads as empty
        if not spec.each:
            return [self._scalar(value, column, defects)]
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise RowError(f"column {column!r}: {text[:40]!r} is no JSON list") from None
            else:
                value = [part for part in text.split(spec.separator)]
        if not isinstance(value, list):
            value = [value]
        return [self._scalar(item, column, defects) for item in value]

    def _nodes(
        self, spec: NodeSpec, row: Row, when: int | None, flags: int, record: Record
    ) -> list[Node]:
        defects = record.defects
        if spec.value is not None:
            natives = [spec.value]
        else:
            assert spec.column is not None
            natives = self._cells(spec, row, spec.column, defects)
        if spec.template is not None:
            natives = [spec.template.replace("{}", n) if n else "" for n in natives]
        if not any(natives):
            if spec.optional:
                return []
            raise RowError(f"column {spec.column!r} is empty")

        columns: dict[str, list[str]] = {}

        def cell(column: str | None, index: int) -> str:
            if column is None:
                return ""
            if not spec.each:
                return self._scalar(row.get(column), column, defects)
            values = columns.get(column)
            if values is None:
                values = columns[column] = self._cells(spec, row, column, defects)
            return values[index] if index < len(values) else ""

        nodes = []
        item = spec.kind.family == "item"
        for index, native in enumerate(natives):
            if not native:  # an empty element of a list
                continue
            attrs = {a: v for a, c in spec.attrs if (v := cell(c, index))}
            name = cell(spec.name, index)
            if not name and spec.kind is not NodeKind.PERSON and not item:
                name = native
            email = cell(spec.email, index)
            if item:
                node, aliases = table_node(
                    spec.kind,
                    self.namespace,
                    native,
                    name=name,
                    when=when,
                    flags=flags,
                    attrs=attrs,
                )
            else:  # people and units recur in many rows: made once
                memo = (spec.kind, native, name, email, *attrs.items())
                known = self._memo.get(memo)
                if known is None:
                    if len(self._memo) > 100_000:
                        self._memo.clear()
                    known = self._memo[memo] = table_node(
                        spec.kind, self.namespace, native, name=name, email=email, attrs=attrs
                    )
                node, aliases = known
            nodes.append(node)
            record.nodes.append(node)
            record.aliases.extend(aliases)
            text = cell(spec.text, index)
            if text:
                record.texts[node.id] = text
        return nodes

    def _time(self, row: Row, defects: list[str]) -> int | None:
        spec = self.mapping.time
        if spec is None:
            return None
        raw = row.get(spec.column)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = repr(raw)
        text = self._scalar(raw, spec.column, defects)
        if not text:
            return None
        try:
            return parse_time(text, spec.format)
        except (ValueError, OverflowError, OSError):
            raise RowError(f"time {text[:40]!r} is not {spec.format}") from None

    def _weight(self, weight: str | float, row: Row, defects: list[str]) -> float:
        if isinstance(weight, float):
            return weight
        text = self._scalar(row.get(weight), weight, defects)
        try:
            return float(text) if text else 1.0
        except ValueError:
            raise RowError(f"weight {text[:40]!r} is not a number") from None

    def uid(self, row: Row, defects: list[str]) -> str:
        """The row's native id: its ``uid`` column, else a hash of its content."""
        if self.mapping.uid is None:
            return f"#{make_id('row', canonical_json(row)):x}"
        value = self._scalar(row.get(self.mapping.uid), self.mapping.uid, defects)
        if not value:
            raise RowError(f"uid column {self.mapping.uid!r} is empty")
        return value

    def record(self, row: Row, place: str, lossy: bool = False) -> Record:
        """The record of one row; raises :class:`RowError` when it cannot be made."""
        defects: list[str] = []
        uid = self.uid(row, defects)
        when = self._time(row, defects)
        flags = 0
        if when is not None and not _MIN_TIME <= when <= self.max_time:
            flags = int(Flag.TIME_SUSPECT)
        row_key = make_id("row", "table", self.namespace, self.table, uid)
        record = Record("table", row_key, place, defects=defects)
        by_role = {
            spec.role: self._nodes(spec, row, when, flags, record) for spec in self.mapping.nodes
        }
        if self.main is not None and by_role[self.main.role]:
            record.key = by_role[self.main.role][0].id
        for spec in self.mapping.links:
            weight = self._weight(spec.weight, row, defects)
            attrs = dict(spec.attrs)
            for src in by_role[spec.src]:
                for dst in by_role[spec.dst]:
                    link_id = make_id(
                        "link", "table", self.namespace, self.table, uid, spec.kind.value,
                        str(src.id), str(dst.id),
                    )  # fmt: skip
                    link = Link(link_id, src.id, dst.id, spec.kind, when, weight, flags, attrs)
                    record.links.append(link)
        if lossy and any(isinstance(v, str) and "\ufffd" in v for v in row.values()):
            defects.append("invalid UTF-8 replaced")
        record.defects = list(dict.fromkeys(defects))
        return record


def file_state(data: bytes, fingerprint: int) -> Cursor:
    """What a cursor remembers of the input: the file's SHA-256 and the mapping's fingerprint."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "mapping": fingerprint}


def batched(
    reads: Iterator[Read],
    make: Callable[[Row, str], Record],
    state: Cursor,
    cursor: Cursor | None,
    batch_size: int,
) -> Iterator[Batch]:
    """Batches of records made by ``make(row, place)`` from ``reads``, resuming at ``cursor``."""
    cursor = cursor or {}
    same = all(cursor.get(key) == value for key, value in state.items())
    if same and cursor.get("done"):
        yield Batch([], [], dict(cursor), total=0)
        return
    skip = int(cursor.get("read", 0)) if same else 0
    read = 0
    records: list[Record] = []
    rejections: list[Rejection] = []
    for place, row in reads:
        read += 1
        if read <= skip:
            continue
        if isinstance(row, str):
            rejections.append(Rejection(place, row))
        else:
            try:
                records.append(make(row, place))
            except RowError as error:
                rejections.append(Rejection(place, error.reason))
        if len(records) + len(rejections) >= batch_size:
            yield Batch(records, rejections, {**state, "read": read, "done": False})
            records, rejections = [], []
    yield Batch(records, rejections, {**state, "read": read, "done": True})


class TableSource:
    """The table at ``path`` read under ``mapping`` (a :class:`Mapping` or a TOML file)."""

    kind = "table"

    def __init__(
        self,
        path: str | Path,
        mapping: Mapping | str | Path,
        *,
        batch_size: int = 5000,
        now: int | None = None,
    ) -> None:
        self.path = Path(path).expanduser()
        self.location = str(path)
        if not self.path.is_file():
            raise InputError("no such file", place=self.location)
        self.mapping = mapping if isinstance(mapping, Mapping) else Mapping.from_toml(mapping)
        self.format = self.mapping.format_of(self.path)
        self.table = self.mapping.table or self.path.stem
        self.name = f"table:{self.mapping.namespace}:{self.table}:{self.path.name}"
        self.batch_size = max(1, batch_size)
        self.builder = RowBuilder(self.mapping, self.table, now)

    def _reads(self, text: str) -> Iterator[Read]:
        place, mapping = self.location, self.mapping
        if self.format == "csv":
            delimiter = (
                "\t"
                if self.path.suffix.lower() == ".tsv" and not mapping.format
                else mapping.delimiter
            )
            return csv_rows(text, place, delimiter, mapping.columns())
        if self.format == "jsonl":
            return jsonl_rows(text, place)
        if self.format == "json":
            return json_array_rows(text, place)
        names = matrix_names(mapping.names, mapping.names_column, self.path)
        return matrix_rows(text, place, mapping.delimiter, names)

    def batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Batches of ``batch_size`` rows; rows that cannot be read or mapped are rejected."""
        data, text, lossy = decode(self.path)
        state = file_state(data, self.mapping.fingerprint)

        def make(row: Row, place: str) -> Record:
            return self.builder.record(row, place, lossy)

        yield from batched(self._reads(text), make, state, cursor, self.batch_size)


__all__ = [
    "RowBuilder",
    "RowError",
    "TableSource",
    "batched",
    "file_state",
    "parse_time",
    "table_node",
]
