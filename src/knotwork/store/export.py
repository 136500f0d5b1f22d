"""Export the graph's nodes and links as CSV, GraphML, GEXF or Parquet, optionally pseudonymized.

Every format holds the same two tables: nodes (``id, kind, key, name, time, flags``) and links
(``src, dst, kind, time, weight``): ``nodes.csv``/``links.csv``, ``graph.graphml``,
``graph.gexf`` (both with the node and link columns as attributes) and
``nodes.parquet``/``links.parquet``. People who opted out (:func:`knotwork.store.erase.opt_out`)
are left out, with their links.

Pseudonymized (a ``key`` is given), every id becomes ``HMAC-SHA256(key, id)`` (16 hex digits
kept), people and non-file items lose their key and name to the same keyed hash, and file paths
are kept with every email address and every alias or name of a person (in any of its
:func:`spellings`: ``grace_hopper`` for Grace Hopper; one of :data:`SHORT` characters or fewer
only as a whole token) replaced by the hash of the person (by
:data:`OPTED_OUT_NAME` for people who opted out). No unkeyed hash of anything is written
(node ids, themselves an unkeyed hash of the key, are replaced too).

>>> import tempfile
>>> from knotwork.graph.sample import sample_store
>>> folder = Path(tempfile.mkdtemp())
>>> files = export(sample_store(), folder, key=b"k", formats=FORMATS)
>>> sorted(f.name for f in files)
['graph.gexf', 'graph.graphml', 'links.csv', 'links.parquet', 'nodes.csv', 'nodes.parquet']
>>> "ada" in (folder / "nodes.csv").read_text().lower()
False
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
from sqlalchemy import select

from knotwork.errors import InputError
from knotwork.model import NodeKind
from knotwork.store import schema
from knotwork.store.accounts import keyed_hash
from knotwork.store.engine import Store

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")

#: The formats :func:`export` writes, and the files of each.
FORMATS: tuple[str, ...] = ("csv", "graphml", "gexf", "parquet")
FILES: dict[str, tuple[str, ...]] = {
    "csv": ("nodes.csv", "links.csv"),
    "graphml": ("graph.graphml",),
    "gexf": ("graph.gexf",),
    "parquet": ("nodes.parquet", "links.parquet"),
}
#: What replaces the names of a person who opted out in the paths of a pseudonymized export.
OPTED_OUT_NAME = "[opted-out]"
NODE_COLUMNS = ("id", "kind", "key", "name", "time", "flags")
LINK_COLUMNS = ("src", "dst", "kind", "time", "weight")


@dataclass(frozen=True)
class Tables:
    """The rows to write: nodes as (id, kind, key, name, time, flags), links as (src, dst,
    kind, time, weight); ids are strings (pseudonyms when pseudonymized), no time is -1."""

    nodes: list[tuple[str, str, str, str, int, int]]
    links: list[tuple[str, str, str, int, float]]


def _pseudonym(value: object, key: bytes | None) -> str:
    return str(value) if key is None else "h" + keyed_hash(f"export:{value}", key)[:16]


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The formats asked for, in :data:`FORMATS` order (``all`` means every one); an
    :class:`~knotwork.errors.InputError` names an unknown one.

    >>> check_formats(["parquet", "csv"])
    ('csv', 'parquet')
    >>> check_formats(["all"]) == FORMATS
    True
    >>> check_formats(["xml"])
    Traceback (most recent call last):
    ...
    knotwork.errors.InputError: --format: expected csv, graphml, gexf, parquet or all, not 'xml'
    """
    chosen: set[str] = set()
    for name in formats:
        if name == "all":
            chosen.update(FORMATS)
        elif name in FORMATS:
            chosen.add(name)
        else:
            raise InputError(
                f"expected {', '.join(FORMATS[:-1])}, {FORMATS[-1]} or all, not {name!r}",
                place="--format",
            )
    return tuple(f for f in FORMATS if f in chosen)


#: How the parts of a name are joined when it is written into a path or a handle.
SEPARATORS = ("", " ", ".", "_", "-")


def spellings(value: str) -> list[str]:
    """The ways a name, handle or email's local part of several parts may be written in a
    path: the local part itself, and its parts joined by each of :data:`SEPARATORS`.

    >>> spellings("grace.hopper@navy.example")
    ['grace.hopper', 'gracehopper', 'grace hopper', 'grace_hopper', 'grace-hopper']
    >>> spellings("Ada"), spellings("ada@example.org")
    ([], ['ada'])
    """
    local = value.split("@")[0]
    parts = [p for p in re.split(r"[\s._-]+", local) if p]
    found = [local] if local != value else []
    if len(parts) >= 2:
        found += [s for s in (sep.join(parts) for sep in SEPARATORS) if s != local]
    return found


def trie_pattern(words: Iterable[str]) -> str:
    """One regular expression matching any of ``words`` (the longest where several match),
    factored as a trie so that thousands of words cost little more per text than a few.

    >>> trie_pattern(["ada", "adam", "bob"])
    '(?:ada(?:m)?|bob)'
    >>> re.findall(trie_pattern(["ada", "adam"]), "adam ada")
    ['adam', 'ada']
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(c) + build(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    body = build(trie)
    return body if body.startswith("(?:") else f"(?:{body})"


#: Words this short are replaced only as a whole token (not inside ``.gitignore`` for "git").
SHORT = 4


def _cleaner(words: list[tuple[str, str]]) -> Callable[[str], str]:
    """Replaces every word (the longest first, any letter case) by its pseudonym, then emails;
    words of :data:`SHORT` characters or fewer only where no letter or digit touches them."""
    lookup: dict[str, str] = {}
    for word, pseudonym in sorted(words, key=lambda pair: -len(pair[0])):
        if len(word) >= 3:
            lookup.setdefault(word.lower(), pseudonym)
    long = [w for w in lookup if len(w) > SHORT]
    short = [w for w in lookup if len(w) <= SHORT]
    parts = [trie_pattern(long)] if long else []
    parts += [rf"(?<![^\W_]){trie_pattern(short)}(?![^\W_])"] if short else []
    pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def clean(text: str) -> str:
        if pattern is not None:
            text = pattern.sub(lambda m: lookup.get(m.group(0).lower(), "[person]"), text)
        return EMAIL.sub("[email]", text)

    return clean


def tables(store: Store, *, key: bytes | None = None) -> Tables:
    """The node and link rows of ``store`` as they are exported (see the module docstring)."""
    from knotwork.store.erase import opted_out

    nodes, links, aliases = schema.nodes, schema.links, schema.aliases
    hidden = opted_out(store)
    with store.connect() as connection:
        node_rows = connection.execute(
            select(nodes.c.id, nodes.c.kind, nodes.c.key, nodes.c.name, nodes.c.time, nodes.c.flags)
        ).all()
        link_rows = connection.execute(
            select(links.c.src, links.c.dst, links.c.kind, links.c.time, links.c.weight)
        ).all()
        alias_rows = connection.execute(select(aliases.c.value, aliases.c.person)).all()
    clean: Callable[[str], str] = str
    if key is not None:
        person = NodeKind.PERSON.value

        def alias(ident: int) -> str:  # what replaces a person's names in paths
            return OPTED_OUT_NAME if ident in hidden else _pseudonym(ident, key)

        words = [(str(v), alias(p)) for v, p in alias_rows]
        words += [(str(r.name), alias(r.id)) for r in node_rows if r.kind == person]
        words += [(str(r.key), alias(r.id)) for r in node_rows if r.kind == person]
        words += [(other, p) for w, p in list(words) for other in spellings(w)]
        clean = _cleaner(words)
    out_nodes = []
    for row in node_rows:
        if row.id in hidden:
            continue
        ident = _pseudonym(row.id, key)
        if key is None:
            keyed, name = str(row.key), str(row.name or "")
        elif row.kind == NodeKind.FILE.value:
            keyed, name = clean(str(row.key)), ""
        else:
            keyed, name = ident, ""
        time = -1 if row.time is None else int(row.time)
        out_nodes.append((ident, str(row.kind), keyed, name, time, int(row.flags)))
    out_links = [
        (
            _pseudonym(link.src, key),
            _pseudonym(link.dst, key),
            str(link.kind),
            -1 if link.time is None else int(link.time),
            float(link.weight),
        )
        for link in link_rows
        if link.src not in hidden and link.dst not in hidden
    ]
    return Tables(out_nodes, out_links)


def _csv(data: Tables, out: Path) -> None:
    for name, header, rows in (
        ("nodes.csv", NODE_COLUMNS, data.nodes),
        ("links.csv", LINK_COLUMNS, data.links),
    ):
        with (out / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)


def _graph(data: Tables) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for ident, kind, keyed, name, time, flags in data.nodes:
        graph.add_node(ident, kind=kind, key=keyed, name=name, time=time, flags=flags)
    for src, dst, kind, time, weight in data.links:
        graph.add_edge(src, dst, kind=kind, time=time, weight=weight)
    return graph


def _parquet(data: Tables, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, header, rows in (
        ("nodes.parquet", NODE_COLUMNS, data.nodes),
        ("links.parquet", LINK_COLUMNS, data.links),
    ):
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
        types = {"time": pa.int64(), "flags": pa.int64(), "weight": pa.float64()}
        table = pa.table(
            {
                h: pa.array(list(c), types.get(h, pa.string()))
                for h, c in zip(header, columns, strict=True)
            }
        )
        pq.write_table(table, out / name)


def export(
    store: Store,
    out: Path,
    *,
    key: bytes | None = None,
    formats: Sequence[str] = ("csv", "graphml"),
) -> list[Path]:
    """Write the nodes and links of ``store`` into ``out`` in each of ``formats`` (see
    :data:`FILES`); pseudonymized with the keyed hash when ``key`` is given. Returns the files
    written."""
    chosen = check_formats(formats)
    out.mkdir(parents=True, exist_ok=True)
    data = tables(store, key=key)
    graph = _graph(data) if {"graphml", "gexf"} & set(chosen) else None
    for form in chosen:
        if form == "csv":
            _csv(data, out)
        elif form == "graphml":
            nx.write_graphml(graph, out / "graph.graphml")
        elif form == "gexf":
            nx.write_gexf(graph, out / "graph.gexf")
        else:
            _parquet(data, out)
    return [out / name for form in chosen for name in FILES[form]]


__all__ = [
    "FILES",
    "FORMATS",
    "OPTED_OUT_NAME",
    "SEPARATORS",
    "SHORT",
    "Tables",
    "check_formats",
    "export",
    "spellings",
    "tables",
    "trie_pattern",
]
