"""Export the graph as CSV (``nodes.csv``, ``links.csv``) and GraphML, optionally pseudonymized.

Pseudonymized (a ``key`` is given), every id becomes ``HMAC-SHA256(key, id)`` (16 hex digits
kept), people and non-file items lose their key and name to the same keyed hash, and file paths
are kept with every email address and every alias or name of a person replaced by the hash of
the person. No unkeyed hash of anything is written.

>>> import tempfile
>>> from knotwork.graph.sample import sample_store
>>> folder = Path(tempfile.mkdtemp())
>>> files = export(sample_store(), folder, key=b"k")
>>> sorted(f.name for f in files)
['graph.graphml', 'links.csv', 'nodes.csv']
>>> "ada" in (folder / "nodes.csv").read_text().lower()
False
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import networkx as nx
from sqlalchemy import select

from knotwork.model import NodeKind
from knotwork.store import schema
from knotwork.store.accounts import keyed_hash
from knotwork.store.engine import Store

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def _pseudonym(value: object, key: bytes | None) -> str:
    return str(value) if key is None else "h" + keyed_hash(f"export:{value}", key)[:16]


def export(store: Store, out: Path, *, key: bytes | None = None) -> list[Path]:
    """Write ``nodes.csv``, ``links.csv`` and ``graph.graphml`` into ``out``; pseudonymized
    with the keyed hash when ``key`` is given. Returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    nodes, links, aliases = schema.nodes, schema.links, schema.aliases
    with store.connect() as connection:
        node_rows = connection.execute(
            select(nodes.c.id, nodes.c.kind, nodes.c.key, nodes.c.name, nodes.c.time, nodes.c.flags)
        ).all()
        link_rows = connection.execute(
            select(links.c.src, links.c.dst, links.c.kind, links.c.time, links.c.weight)
        ).all()
        alias_rows = connection.execute(select(aliases.c.value, aliases.c.person)).all()
    secret: list[tuple[str, str]] = []
    if key is not None:
        words = [(str(v), p) for v, p in alias_rows]
        words += [(str(r.name), r.id) for r in node_rows if r.kind == NodeKind.PERSON.value]
        words += [(str(r.key), r.id) for r in node_rows if r.kind == NodeKind.PERSON.value]
        secret = sorted(
            ((w, _pseudonym(p, key)) for w, p in words if len(w) >= 3),
            key=lambda pair: -len(pair[0]),
        )

    def clean(text: str) -> str:
        for word, alias in secret:
            text = re.sub(re.escape(word), alias, text, flags=re.IGNORECASE)
        return EMAIL.sub("[email]", text)

    graph = nx.MultiDiGraph()
    with (out / "nodes.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "kind", "key", "name", "time", "flags"])
        for row in node_rows:
            ident = _pseudonym(row.id, key)
            if key is None:
                keyed, name = str(row.key), str(row.name)
            elif row.kind == NodeKind.FILE.value:
                keyed, name = clean(str(row.key)), ""
            else:
                keyed, name = ident, ""
            writer.writerow([ident, row.kind, keyed, name, row.time or "", row.flags])
            graph.add_node(ident, kind=row.kind, key=keyed, name=name)
    with (out / "links.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["src", "dst", "kind", "time", "weight"])
        for link in link_rows:
            src, dst = _pseudonym(link.src, key), _pseudonym(link.dst, key)
            writer.writerow([src, dst, link.kind, link.time or "", link.weight])
            graph.add_edge(src, dst, kind=link.kind, time=link.time or 0, weight=link.weight)
    nx.write_graphml(graph, out / "graph.graphml")
    return [out / "nodes.csv", out / "links.csv", out / "graph.graphml"]


__all__ = ["export"]
