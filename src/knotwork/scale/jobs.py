"""The batch jobs behind ``knotwork compute``: authority and groups on the local engine or Spark.

Both engines read the same view (decayed at ``as_of``), from the store or from a Parquet export
(:func:`knotwork.scale.parquet.read_view`, for a machine that cannot reach the store), and
write the same result file, a Parquet table of ``id`` (node id) and ``score`` (authority) or
``group`` (a label), so that the results can be compared, kept, or brought back into the store
(:mod:`knotwork.scale.scores`). The file's metadata (key ``knotwork``, JSON) says what it holds
and what it was computed from: ``result``, ``engine``, ``as_of``, ``explicit``,
``half_life_days``, the store ``state`` (the view's mark), parameters and ``computed`` time.

>>> import tempfile
>>> from pathlib import Path
>>> from knotwork.graph.sample import sample_store
>>> out = Path(tempfile.mkdtemp()) / "authority.parquet"
>>> summary = compute_authority(sample_store(), out, engine="local")
>>> summary["engine"], summary["nodes"], summary["converged"]
('local', 9, True)
>>> read_result_meta(out)["result"]
'authority'
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
from knotwork.scale.parquet import export_view, read_meta, read_view
from knotwork.services.authority import AUTHORITY_WEIGHTS
from knotwork.store.engine import Store

ENGINES = ("local", "spark")
GROUP_METHODS = ("components", "propagation")


def _check(engine: str, choices: tuple[str, ...], what: str) -> None:
    if engine not in choices:
        raise InputError(f"expected one of {', '.join(choices)}", place=f"{what} {engine}")


#: The key of the result metadata in a result file's Parquet schema.
META_KEY = b"knotwork"

Source = Store | str | Path


def _write(
    out: Path,
    ids: npt.NDArray[np.int64],
    column: str,
    values: npt.NDArray[Any],
    meta: dict[str, Any],
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"id": pa.array(ids), column: pa.array(values)})
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
    pq.write_table(table, out)


def read_result_meta(path: str | Path) -> dict[str, Any]:
    """The metadata a result file was written with (empty when it has none)."""
    raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
    if raw is None:
        return {}
    meta: dict[str, Any] = json.loads(raw)
    return meta


def _view(source: Source, as_of: int | None) -> GraphView:
    if isinstance(source, Store):
        return GraphView.build(source, as_of=as_of)
    if as_of is not None:
        raise InputError("an export is already decayed at its as_of", place="--as-of")
    return read_view(source)


@contextmanager
def _exported(source: Source, view: GraphView) -> Iterator[str]:
    """A Parquet export of ``view``: ``source`` itself when it is one, else a temporary one."""
    if not isinstance(source, Store):
        read_meta(source)
        yield str(source)
        return
    with tempfile.TemporaryDirectory(prefix="knotwork-export-") as folder:
        export_view(view, folder)
        yield folder


def _meta(view: GraphView, result: str, engine: str, **params: Any) -> dict[str, Any]:
    return {
        "result": result,
        "engine": engine,
        "as_of": int(view.as_of),
        "explicit": bool(view.explicit),
        "half_life_days": float(view.half_life_days),
        "state": None if view.mark is None else [int(v) for v in view.mark],
        "nodes": int(view.n_nodes),
        "links": int(view.n_links),
        "params": params,
        "computed": int(time.time()),
    }


def compute_authority(
    source: Source,
    out: Path,
    *,
    engine: str = "local",
    master: str = "local[2]",
    as_of: int | None = None,
    tol: float = 1e-6,
    damping: float = 0.85,
) -> dict[str, Any]:
    """PageRank authority of every node, written to ``out`` as Parquet (``id``, ``score``).

    ``source`` is a store or the folder of a Parquet export (``knotwork export parquet``).
    """
    _check(engine, ENGINES, "--engine")
    view = _view(source, as_of)
    started = time.perf_counter()
    if engine == "local":
        result = Walk(view.matrix(AUTHORITY_WEIGHTS)).rank(damping=damping, tol=tol)
        vector, iterations, converged = result.vector, result.iterations, result.converged
    else:
        from knotwork.scale import spark as engine_module

        spark = engine_module.session(master)
        with _exported(source, view) as folder:
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
    meta = _meta(view, "authority", engine, damping=damping, tol=tol, converged=bool(converged))
    _write(out, view.ids, "score", np.asarray(vector, dtype=np.float64), meta)
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
    source: Source,
    out: Path,
    *,
    engine: str = "local",
    method: str = "propagation",
    master: str = "local[2]",
    as_of: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Connected components or label propagation groups of the whole graph, to ``out``
    (``id``, ``group``: the id of a node of the group); ``source`` as in
    :func:`compute_authority`."""
    _check(engine, ENGINES, "--engine")
    _check(method, GROUP_METHODS, "--method")
    view = _view(source, as_of)
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
        with _exported(source, view) as folder:
            links = engine_module.links_frame(spark, folder)
            if method == "components":
                labels = engine_module.components(spark, links, n)
            else:
                labels = engine_module.label_propagation(spark, links, n, seed=seed)
    seconds = time.perf_counter() - started
    meta = _meta(view, "groups", engine, method=method, seed=seed)
    _write(out, view.ids, "group", view.ids[labels] if n else labels, meta)
    return {
        "engine": engine,
        "method": method,
        "nodes": n,
        "groups": len(set(labels.tolist())),
        "seconds": round(seconds, 3),
        "out": str(out),
    }


__all__ = [
    "ENGINES",
    "GROUP_METHODS",
    "META_KEY",
    "compute_authority",
    "compute_groups",
    "read_result_meta",
]
