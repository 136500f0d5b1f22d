"""Export a view as partitioned Parquet: the input of the Spark jobs (and of other tools).

The export holds what a batch job needs and nothing more: ``nodes/`` with each node's
position in the view (``node``), its id and kind; ``links/``, partitioned by link ``kind``,
with the positions of both ends, the time and the weight **already decayed** at the view's
``as_of``; and ``meta.json`` (``as_of``, ``half_life_days``, ``n_nodes``, ``n_links``). Keys
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
from knotwork.graph.view import LINK_KINDS, NODE_KINDS, GraphView

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
        "half_life_days": float(view.half_life_days),
        "n_nodes": int(view.n_nodes),
        "n_links": int(view.n_links),
        "keys": keys,
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


__all__ = ["ROWS_PER_FILE", "export_view", "read_links", "read_meta"]
