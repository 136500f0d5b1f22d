"""The mapping of a table source: which columns make which nodes, links and times.

A mapping is a TOML file (read with :mod:`tomllib`) or the equivalent dict. Every row of the
table yields the nodes of its **roles** (``[nodes.<role>]``) and the links between them
(``[link]`` or ``[[links]]``)::

    [source]
    name = "enron"            # namespace of native ids: tables sharing it share their nodes
    table = "messages"        # what this file holds [default: the file's stem]
    format = "json"           # csv | jsonl | json (array of objects) | matrix [default: suffix]
    uid = "id"                # column with the row's native id [default: a hash of the row]
    main = "message"          # role whose node is the row's main node [default: first item role]
    delimiter = ","           # csv and matrix only
    names = "people.csv"      # matrix only: row/column names (a CSV beside the data file) ...
    names_column = "NodeName" # ... its column [default: the first]; or names = ["a", "b", ...]

    [time]
    column = "time"
    format = "unix"           # unix | unix_ms | iso | a strptime pattern such as "%d/%m/%Y %H:%M"

    [nodes.sender]
    column = "sender"         # the node's native id (or value = "..." for a constant)
    kind = "person"           # any node kind: person, org, message, customer, thing, ...
    name = "sender_name"      # optional column with the display name
    email = "sender_email"    # persons only: the same email is the same person in every source
    text = "body"             # items only: column with the text to index
    attrs = ["title"]         # columns copied into the node's attrs (or a table attr = column)
    each = false              # true: the column holds a list; one node (and link) per element
    separator = ";"           # how a list is written in a CSV cell (or as a JSON list)
    optional = false          # true: an empty cell means no node, and no links to it
    template = "unit {}"      # the native id (and default name) made from the cell's value

    [[links]]
    src = "sender"
    dst = "message"
    kind = "authored"
    weight = "weight"         # a column, or a number [default: 1]
    attrs = { role = "to" }   # constant attrs of every link

>>> mapping = Mapping.from_dict({
...     "source": {"name": "demo"},
...     "nodes": {"src": {"column": "from", "kind": "person"},
...               "dst": {"column": "to", "kind": "person", "each": True}},
...     "link": {"kind": "mentions"},
...     "time": {"column": "at", "format": "iso"}})
>>> [(n.role, n.kind.value) for n in mapping.nodes], mapping.links[0].kind.value
([('src', 'person'), ('dst', 'person')], 'mentions')
>>> sorted(mapping.columns())
['at', 'from', 'to']
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knotwork.errors import InputError
from knotwork.model import LinkKind, NodeKind, canonical_json, make_id

FORMATS = ("csv", "jsonl", "json", "matrix")
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
_SOURCE_KEYS = {"name", "table", "format", "uid", "main", "delimiter", "names", "names_column"}
_NODE_KEYS = {"column", "value", "kind", "name", "email", "text", "attrs", "each", "separator"}
_NODE_KEYS |= {"optional", "template"}
_LINK_KEYS = {"src", "dst", "kind", "weight", "attrs"}


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """How one role's node is made from a row."""

    role: str
    kind: NodeKind
    column: str | None = None
    value: str | None = None
    name: str | None = None
    email: str | None = None
    text: str | None = None
    attrs: tuple[tuple[str, str], ...] = ()
    each: bool = False
    separator: str = ";"
    optional: bool = False
    template: str | None = None


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """How one link ``src -> dst`` is made between two roles' nodes."""

    src: str
    dst: str
    kind: LinkKind
    weight: str | float = 1.0
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """The column holding the row's time and how it is written."""

    column: str
    format: str = "unix"


@dataclass(frozen=True, slots=True)
class Mapping:
    """A validated mapping; :meth:`from_toml` and :meth:`from_dict` build one."""

    namespace: str
    nodes: tuple[NodeSpec, ...]
    links: tuple[LinkSpec, ...] = ()
    time: TimeSpec | None = None
    table: str | None = None
    format: str | None = None
    uid: str | None = None
    main: str | None = None
    delimiter: str = ","
    names: str | tuple[str, ...] | None = None
    names_column: str | None = None
    fingerprint: int = 0

    @classmethod
    def from_toml(cls, path: str | Path) -> Mapping:
        """The mapping in the TOML file at ``path``; errors name the file and the key."""
        place = str(path)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read the mapping ({exc.strerror})", place=place) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"not a valid TOML mapping: {exc}", place=place) from None
        return cls.from_dict(data, place)

    @classmethod
    def from_dict(cls, data: dict[str, Any], place: str = "mapping") -> Mapping:
        """The mapping described by ``data`` (the TOML document as a dict)."""
        _known(data, {"source", "time", "nodes", "link", "links"}, place)
        source = _table(data, "source", place)
        _known(source, _SOURCE_KEYS, f"{place} [source]")
        namespace = _text(source, "name", f"{place} [source]", required=True)
        fmt = _text(source, "format", f"{place} [source]")
        if fmt is not None and fmt not in FORMATS:
            raise InputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}", place=place)
        names = source.get("names")
        if names is not None and not (
            isinstance(names, str)
            or (isinstance(names, list) and all(isinstance(n, str | int) for n in names))
        ):
            raise InputError("[source] names must be a file name or a list of names", place=place)
        nodes = tuple(
            _node(role, spec, f"{place} [nodes.{role}]")
            for role, spec in _table(data, "nodes", place).items()
        )
        if not nodes:
            raise InputError("no [nodes.<role>] table: nothing to make from a row", place=place)
        roles = {node.role for node in nodes}
        raw_links = data.get("links", [])
        if not isinstance(raw_links, list):
            raise InputError("links must be an array of tables ([[links]])", place=place)
        if "link" in data:
            raw_links = [{"src": "src", "dst": "dst", **_table(data, "link", place)}, *raw_links]
        links = tuple(
            _link(spec, roles, f"{place} [[links]] #{i + 1}") for i, spec in enumerate(raw_links)
        )
        time_spec = None
        if "time" in data:
            raw_time = _table(data, "time", place)
            _known(raw_time, {"column", "format"}, f"{place} [time]")
            column = _text(raw_time, "column", f"{place} [time]", required=True)
            time_spec = TimeSpec(str(column), _text(raw_time, "format", place) or "unix")
        main = _text(source, "main", f"{place} [source]")
        if main is not None and main not in roles:
            raise InputError(f"[source] main names no role ({main!r})", place=place)
        return cls(
            namespace=str(namespace),
            nodes=nodes,
            links=links,
            time=time_spec,
            table=_text(source, "table", place),
            format=fmt,
            uid=_text(source, "uid", place),
            main=main,
            delimiter=_text(source, "delimiter", place) or ",",
            names=tuple(str(n) for n in names) if isinstance(names, list) else names,
            names_column=_text(source, "names_column", place),
            fingerprint=make_id("mapping", canonical_json(data)),
        )

    def format_of(self, path: Path) -> str:
        """The format of the data file ``path``: the mapping's, else by its suffix."""
        if self.format:
            return self.format
        suffix = path.suffix.lower()
        if suffix not in _SUFFIXES:
            raise InputError(
                f"cannot tell the format from the suffix {suffix!r}: set [source] format",
                place=str(path),
            )
        return _SUFFIXES[suffix]

    def columns(self) -> set[str]:
        """Every column the mapping reads."""
        used: set[str] = set()
        for node in self.nodes:
            used |= {c for c in (node.column, node.name, node.email, node.text) if c}
            used |= {column for _, column in node.attrs}
        used |= {link.weight for link in self.links if isinstance(link.weight, str)}
        if self.time is not None:
            used.add(self.time.column)
        if self.uid is not None:
            used.add(self.uid)
        return used

    def main_role(self) -> NodeSpec | None:
        """The role whose node keys a row: ``main``, else the first single item role."""
        for node in self.nodes:
            if node.role == self.main:
                return node
        if self.main is None:
            for node in self.nodes:
                if node.kind.family == "item" and not node.each:
                    return node
        return None


def _known(data: dict[str, Any], keys: set[str], place: str) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r} (known: {', '.join(sorted(keys))})", place=place
        )


def _table(data: dict[str, Any], key: str, place: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"{key} must be a table ([{key}])", place=place)
    return value


def _text(data: dict[str, Any], key: str, place: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise InputError(f"{key!r} is required", place=place)
        return None
    if not isinstance(value, str) or not value:
        raise InputError(f"{key!r} must be a non-empty string, not {value!r}", place=place)
    return value


def _node(role: str, spec: Any, place: str) -> NodeSpec:
    if not isinstance(spec, dict):
        raise InputError("a node role must be a table", place=place)
    _known(spec, _NODE_KEYS, place)
    raw_kind = str(_text(spec, "kind", place, required=True))
    try:
        kind = NodeKind(raw_kind)
    except ValueError:
        known = ", ".join(k.value for k in NodeKind)
        raise InputError(f"kind {raw_kind!r} is not one of {known}", place=place) from None
    column, value = _text(spec, "column", place), spec.get("value")
    if (column is None) == (value is None):
        raise InputError("give exactly one of 'column' and 'value'", place=place)
    attrs = spec.get("attrs", [])
    if isinstance(attrs, list) and all(isinstance(a, str) for a in attrs):
        pairs = tuple((a, a) for a in attrs)
    elif isinstance(attrs, dict) and all(isinstance(c, str) for c in attrs.values()):
        pairs = tuple(sorted(attrs.items()))
    else:
        raise InputError("attrs must be a list of columns or a table attr = column", place=place)
    email = _text(spec, "email", place)
    if email is not None and kind is not NodeKind.PERSON:
        raise InputError("'email' is for persons only", place=place)
    template = _text(spec, "template", place)
    if template is not None and template.count("{}") != 1:
        raise InputError("template must hold '{}' once, where the value goes", place=place)
    for flag in ("each", "optional"):
        if not isinstance(spec.get(flag, False), bool):
            raise InputError(f"{flag!r} must be true or false", place=place)
    return NodeSpec(
        role=role,
        kind=kind,
        column=column,
        value=None if value is None else str(value),
        name=_text(spec, "name", place),
        email=email,
        text=_text(spec, "text", place),
        attrs=pairs,
        each=bool(spec.get("each", False)),
        separator=_text(spec, "separator", place) or ";",
        optional=bool(spec.get("optional", False)),
        template=template,
    )


def _link(spec: Any, roles: set[str], place: str) -> LinkSpec:
    if not isinstance(spec, dict):
        raise InputError("a link must be a table", place=place)
    _known(spec, _LINK_KEYS, place)
    ends = []
    for end in ("src", "dst"):
        role = _text(spec, end, place, required=True)
        if role not in roles:
            raise InputError(f"{end} = {role!r} names no [nodes.<role>]", place=place)
        ends.append(str(role))
    raw_kind = str(_text(spec, "kind", place, required=True))
    try:
        kind = LinkKind(raw_kind)
    except ValueError:
        known = ", ".join(k.value for k in LinkKind)
        raise InputError(f"kind {raw_kind!r} is not one of {known}", place=place) from None
    weight = spec.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, str | int | float):
        raise InputError("weight must be a column or a number", place=place)
    attrs = spec.get("attrs", {})
    if not isinstance(attrs, dict):
        raise InputError("attrs must be a table", place=place)
    return LinkSpec(
        ends[0], ends[1], kind, weight if isinstance(weight, str) else float(weight), attrs
    )


__all__ = ["FORMATS", "LinkSpec", "Mapping", "NodeSpec", "TimeSpec"]
