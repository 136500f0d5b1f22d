"""Export a view as partitioned Parquet: the input of the Spark jobs (and of other tools).

The export holds what a batch job needs and nothing more: ``nodes/`` with each node's
position in the view (``node``), its id and kind; ``links/``, partitioned by link ``kind``,
with the positions of both ends, the time and the weight **already decayed** at the view's
``as_of``; and ``meta.json`` (``as_of``, whether it was ``explicit``, ``half_life_days``,
``n_nodes``, ``n_links``, and the store ``state`` the view was read at, which
``knotwork import scores`` compares with the store's to refuse stale results). Keys
(emails, handles, paths) are left out unless ``keys=True``, so an export for a cluster carries
no personal data beyond opaque ids.

>>> import tempfile
>>> from knotwork.graph.sample import sample_store
>>> from knotwork.graph.view import GraphView
>>> view = GraphView.build(sample_store())
>>> with tempfile.TemporaryDirectory() as folder:
...     meta = export_view(view, folder)
...     back = read_links(folder)
>>> meta["n_nodes"], meta["n_links"], len(back["src"]) == view.n_links
(9, 12, True)
>>> with tempfile.TemporaryDirectory() as folder:
...     _ = export_view(view, folder)
...     again = read_view(folder)
>>> from knotwork.services.authority import AUTHORITY_WEIGHTS as W
>>> float(abs(again.matrix(W) - view.matrix(W)).sum()), again.as_of == view.as_of
(0.0, True)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from knotwork.errors import InputError
from knotwork.graph.view import LINK_KINDS, NODE_KINDS, GraphView, key_array

#: Rows per Parquet file: files stay a few tens of MB, so a cluster reads them in parallel.
ROWS_PER_FILE = 4_000_000


def export_view(view: GraphView, folder: str | Path, *, keys: bool = False) -> dict[str, Any]:
    """Write ``view`` under ``folder`` (see the module docstring); returns the metadata."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    node_columns: dict[str, Any] = {
        "node": pa.array(np.arange(view.n_nodes, dtype=np.int32)),
        "id": pa.array(np.asarray(view.ids, dtype=np.int64)),
        "kind": pa.array([NODE_KINDS[k] for k in view.kind.tolist()], pa.string()),
    }
    if keys:
        node_columns["key"] = pa.array(view.keys, pa.string())
    pq.write_table(pa.table(node_columns), root / "nodes.parquet")
    kinds = np.asarray(LINK_KINDS, dtype=object)[np.asarray(view.link_kind, dtype=np.int64)]
    links = pa.table(
        {
            "src": pa.array(np.asarray(view.src, dtype=np.int32)),
            "dst": pa.array(np.asarray(view.dst, dtype=np.int32)),
            "time": pa.array(np.asarray(view.time, dtype=np.int64)),
            "weight": pa.array(np.asarray(view.weight, dtype=np.float64)),
            "kind": pa.array(kinds.tolist(), pa.string()),
        }
    )
    ds.write_dataset(
        links,
        root / "links",
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("kind", pa.string())]), flavor="hive"),
        max_rows_per_file=ROWS_PER_FILE,
        max_rows_per_group=min(ROWS_PER_FILE, 1_000_000),
        existing_data_behavior="delete_matching",
    )
    meta = {
        "as_of": int(view.as_of),
        "explicit": bool(view.explicit),
        "half_life_days": float(view.half_life_days),
        "n_nodes": int(view.n_nodes),
        "n_links": int(view.n_links),
        "keys": keys,
        "state": None if view.mark is None else [int(v) for v in view.mark],
    }
    (root / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def read_meta(folder: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of an export; a clear error when ``folder`` is not one."""
    path = Path(folder) / "meta.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            "not a Knotwork Parquet export (no meta.json)", place=str(folder)
        ) from None
    except json.JSONDecodeError as error:
        raise InputError(f"unreadable metadata: {error}", place=str(path)) from None
    return meta


def read_links(folder: str | Path) -> dict[str, npt.NDArray[Any]]:
    """The links of an export as numpy columns: ``src``, ``dst``, ``time``, ``weight``, ``kind``."""
    read_meta(folder)
    table = ds.dataset(Path(folder) / "links", format="parquet", partitioning="hive").to_table()
    return {name: table.column(name).to_numpy() for name in table.column_names}


def read_view(folder: str | Path) -> GraphView:
    """The view an export was written from, for the local engine: nodes (ids, kinds) and the
    links with their decayed weights as exported, grouped by link kind (no names or keys:
    ``keys`` are the ids).

    ``mark`` is the store state recorded at export, so results computed from it can be
    checked for staleness when they are imported.
    """
    meta = read_meta(folder)
    nodes = pq.read_table(Path(folder) / "nodes.parquet")
    links = read_links(folder)
    ids = nodes.column("id").to_numpy().astype(np.int64)
    if len(ids) and not bool((np.diff(ids) > 0).all()):
        raise InputError("node ids are not sorted by position", place=f"{folder}/nodes.parquet")
    codes = {name: i for i, name in enumerate(NODE_KINDS)}
    link_codes = {name: i for i, name in enumerate(LINK_KINDS)}
    kind_names = links["kind"].astype(str)
    link_kind = np.array([link_codes.get(k, -1) for k in kind_names.tolist()], dtype=np.int8)
    if (link_kind < 0).any():
        raise InputError(
            f"unknown link kind {kind_names[link_kind < 0][0]!r}", place=f"{folder}/links"
        )
    n_links = len(links["src"])
    view = GraphView(
        ids=ids,
        kind=np.array([codes[k] for k in nodes.column("kind").to_pylist()], dtype=np.int16),
        flags=np.zeros(len(ids), dtype=np.int64),
        keys=key_array([str(i) for i in ids.tolist()]),
        src=np.asarray(links["src"], dtype=np.int32),
        dst=np.asarray(links["dst"], dtype=np.int32),
        link_kind=link_kind,
        time=np.asarray(links["time"], dtype=np.int64),
        weight=np.asarray(links["weight"], dtype=np.float32),
        as_of=int(meta["as_of"]),
        half_life_days=float(meta["half_life_days"]),
        last_active=np.full(len(ids), -1, dtype=np.int64),
        trusted=np.ones(n_links, dtype=bool),
    )
    view.explicit = bool(meta.get("explicit", False))
    state = meta.get("state")
    view.mark = None if state is None else tuple(int(v) for v in state)
    return view


__all__ = ["ROWS_PER_FILE", "export_view", "read_links", "read_meta", "read_view"]
