"""The batch jobs behind ``knotwork compute``: authority and groups on the local engine or Spark.

Both engines read the same view (decayed at ``as_of``) and write the same result file, a
Parquet table of ``id`` (node id) and ``score`` (authority) or ``group`` (a label), so that the
results can be compared, kept, or brought back into the store.

>>> import tempfile
>>> from pathlib import Path
>>> from knotwork.graph.sample import sample_store
>>> out = Path(tempfile.mkdtemp()) / "authority.parquet"
>>> summary = compute_authority(sample_store(), out, engine="local")
>>> summary["engine"], summary["nodes"], summary["converged"]
('local', 9, True)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from knotwork.errors import InputError
from knotwork.graph import propagation
from knotwork.graph.rank import Walk
from knotwork.graph.view import GraphView
from knotwork.scale.parquet import export_view
from knotwork.services.authority import AUTHORITY_WEIGHTS
from knotwork.store.engine import Store

ENGINES = ("local", "spark")
GROUP_METHODS = ("components", "propagation")


def _check(engine: str, choices: tuple[str, ...], what: str) -> None:
    if engine not in choices:
        raise InputError(f"expected one of {', '.join(choices)}", place=f"{what} {engine}")


def _write(out: Path, ids: npt.NDArray[np.int64], column: str, values: npt.NDArray[Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": pa.array(ids), column: pa.array(values)}), out)


def compute_authority(
    store: Store,
    out: Path,
    *,
    engine: str = "local",
    master: str = "local[2]",
    as_of: int | None = None,
    tol: float = 1e-6,
    damping: float = 0.85,
) -> dict[str, Any]:
    """PageRank authority of every node, written to ``out`` as Parquet (``id``, ``score``)."""
    _check(engine, ENGINES, "--engine")
    view = GraphView.build(store, as_of=as_of)
    started = time.perf_counter()
    if engine == "local":
        result = Walk(view.matrix(AUTHORITY_WEIGHTS)).rank(damping=damping, tol=tol)
        vector, iterations, converged = result.vector, result.iterations, result.converged
    else:
        from knotwork.scale import spark as engine_module

        spark = engine_module.session(master)
        with tempfile.TemporaryDirectory(prefix="knotwork-export-") as folder:
            export_view(view, folder)
            ranked = engine_module.pagerank(
                spark,
                engine_module.links_frame(spark, folder),
                view.n_nodes,
                weights=AUTHORITY_WEIGHTS,
                damping=damping,
                tol=tol,
            )
        vector, iterations, converged = ranked.vector, ranked.iterations, ranked.converged
    seconds = time.perf_counter() - started
    _write(out, view.ids, "score", np.asarray(vector, dtype=np.float64))
    return {
        "engine": engine,
        "nodes": view.n_nodes,
        "links": view.n_links,
        "iterations": iterations,
        "converged": converged,
        "seconds": round(seconds, 3),
        "out": str(out),
    }


def compute_groups(
    store: Store,
    out: Path,
    *,
    engine: str = "local",
    method: str = "propagation",
    master: str = "local[2]",
    as_of: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Connected components or label propagation groups of the whole graph, to ``out``."""
    _check(engine, ENGINES, "--engine")
    _check(method, GROUP_METHODS, "--method")
    view = GraphView.build(store, as_of=as_of)
    n = view.n_nodes
    started = time.perf_counter()
    if engine == "local":
        import scipy.sparse as sp

        matrix = sp.csr_matrix(
            (np.asarray(view.weight, dtype=np.float64), (view.src, view.dst)), shape=(n, n)
        )
        if method == "components":
            labels = propagation.components(matrix)
        else:
            labels = propagation.label_propagation(matrix, seed=seed)
    else:
        from knotwork.scale import spark as engine_module

        spark = engine_module.session(master)
        with tempfile.TemporaryDirectory(prefix="knotwork-export-") as folder:
            export_view(view, folder)
            links = engine_module.links_frame(spark, folder)
            if method == "components":
                labels = engine_module.components(spark, links, n)
            else:
                labels = engine_module.label_propagation(spark, links, n, seed=seed)
    seconds = time.perf_counter() - started
    _write(out, view.ids, "group", view.ids[labels] if n else labels)
    return {
        "engine": engine,
        "method": method,
        "nodes": n,
        "groups": len(set(labels.tolist())),
        "seconds": round(seconds, 3),
        "out": str(out),
    }


__all__ = ["ENGINES", "GROUP_METHODS", "compute_authority", "compute_groups"]
