"""Bring the results of batch jobs back into the store, and serve them while they are fresh.

``knotwork compute`` (local engine or Spark, from the store or from a Parquet export) writes a
result file: ``id`` and ``score`` (authority) or ``group`` (a label), with metadata saying
what it was computed from (:mod:`knotwork.scale.jobs`). :func:`import_scores` checks a file
(columns, types, every id a node of the store, the store unchanged since the export) and
replaces the stored result of its kind in one transaction (tables ``score_runs`` and
``scores``, migration ``0005``). :func:`imported_authority` hands the stored authority to
``top people|items`` when it is **fresh** for the view asked for: same store state (the view's
mark: rows, sequence numbers, merges, aliases), same ``as_of`` and half-life; otherwise the
ranking is computed locally and the answer says why the import was not used.

>>> import tempfile
>>> from pathlib import Path
>>> from knotwork.graph.sample import sample_store
>>> from knotwork.graph.view import cached_view
>>> from knotwork.scale.jobs import compute_authority
>>> store = sample_store()
>>> out = Path(tempfile.mkdtemp()) / "authority.parquet"
>>> _ = compute_authority(store, out)
>>> import_scores(store, out)["rows"]
9
>>> imported_authority(store, cached_view(store)).computed_by
'local engine (imported)'
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import delete, insert, select

from knotwork.errors import InputError
from knotwork.graph.live import read_store
from knotwork.graph.view import GraphView
from knotwork.scale.jobs import META_KEY
from knotwork.store import schema
from knotwork.store.engine import Store

#: The kinds of result, and the column that holds the value of each.
KINDS = {"authority": "score", "groups": "group"}

#: Rows per INSERT batch.
BATCH = 20_000


@dataclass(frozen=True, slots=True)
class ScoreFile:
    """A checked result file: its kind, node ids, values and the metadata of its run."""

    path: Path
    kind: str
    ids: npt.NDArray[np.int64]
    values: npt.NDArray[Any]
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Served:
    """What ``top`` ranks by: the imported ``vector`` (per view position) or ``None`` to
    compute locally, and ``computed_by``, the words that say which (and why)."""

    vector: npt.NDArray[np.float64] | None
    computed_by: str


def _row_error(path: Path, row: int, reason: str) -> InputError:
    return InputError(reason, place=f"{path}, row {row + 1}")


def _column(table: pa.Table, path: Path, name: str, integer: bool) -> npt.NDArray[Any]:
    column = table.column(name)
    kind = column.type
    ok = (
        pa.types.is_integer(kind)
        if integer
        else pa.types.is_integer(kind) or (pa.types.is_floating(kind))
    )
    if not ok:
        wanted = "whole numbers" if integer else "numbers"
        raise InputError(f"column {name!r} holds {kind}, expected {wanted}", place=str(path))
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise _row_error(path, row, f"{name} is empty")
    values: npt.NDArray[Any] = column.to_numpy().astype(np.int64 if integer else np.float64)
    return values


def read_scores(path: str | Path) -> ScoreFile:
    """Read and check a result file of ``knotwork compute``; errors name the file and row.

    The value column says the kind (``score``: authority, ``group``: groups); ids must be
    unique, scores finite and non-negative, group labels ids of the same file.
    """
    where = Path(path)
    try:
        table = pq.read_table(where)
    except FileNotFoundError:
        raise InputError("no such file", place=str(where)) from None
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"not a Parquet file: {error}", place=str(where)) from None
    names = table.column_names
    present = [kind for kind, column in KINDS.items() if column in names]
    if "id" not in names or len(present) != 1:
        raise InputError(
            f"expected the columns id and one of score, group; found {', '.join(names)}",
            place=str(where),
        )
    kind = present[0]
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise InputError(
            "no Knotwork metadata (what the scores were computed from): "
            "write results with knotwork compute",
            place=str(where),
        )
    try:
        meta: dict[str, Any] = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InputError(f"unreadable Knotwork metadata: {error}", place=str(where)) from None
    missing = [key for key in ("as_of", "half_life_days", "state") if key not in meta]
    if missing:
        raise InputError(f"the metadata lacks {', '.join(missing)}", place=str(where))
    if meta.get("result") != kind:
        raise InputError(
            f"the metadata says {meta.get('result')!r} but the columns hold {kind}",
            place=str(where),
        )
    ids = _column(table, where, "id", integer=True)
    values = _column(table, where, KINDS[kind], integer=kind == "groups")
    order = np.argsort(ids, kind="stable")
    repeated = np.flatnonzero(np.diff(ids[order]) == 0)
    if len(repeated):
        first, again = sorted(order[repeated[0] : repeated[0] + 2].tolist())
        raise _row_error(where, again, f"id {ids[again]} appears twice (first at row {first + 1})")
    if kind == "authority":
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if len(bad):
            raise _row_error(where, int(bad[0]), f"score {values[bad[0]]} is not a number >= 0")
    else:
        bad = np.flatnonzero(~np.isin(values, ids))
        if len(bad):
            raise _row_error(where, int(bad[0]), f"group {values[bad[0]]} is not an id of the file")
    return ScoreFile(where, kind, ids, values, meta)


def _node_ids(store: Store) -> npt.NDArray[np.int64]:
    with store.connect() as connection:
        rows = connection.execute(select(schema.nodes.c.id)).scalars().all()
    return np.sort(np.asarray(rows, dtype=np.int64))


def _stale_reason(recorded: Any, current: tuple[int, ...]) -> str | None:
    """Why results computed at store state ``recorded`` do not fit the store now, or None."""
    if recorded is None:
        return "the results do not say which store state they were computed from"
    then = tuple(int(v) for v in recorded)
    if then == current:
        return None
    if len(then) != len(current):
        return "the results record the store state in another form (another Knotwork version)"
    links, nodes = then[1], then[3]
    return (
        f"the store changed since the export ({links} links and {nodes} nodes then, "
        f"{current[1]} and {current[3]} now, or rows updated, merged or erased)"
    )


def import_scores(store: Store, path: str | Path) -> dict[str, Any]:
    """Check the result file ``path`` against ``store`` and replace the stored result of its
    kind with it; returns a summary. A stale file (the store changed since its export) or an
    id that is not a node of the store is refused with an error naming the file and row."""
    found = read_scores(path)
    recorded = found.meta.get("state")
    current: tuple[int, ...] = ()
    if recorded is not None:
        _, _, current = read_store(store, since=tuple(int(v) for v in recorded))
    stale = _stale_reason(recorded, current)
    if stale:
        raise InputError(f"stale results: {stale}; export and compute again", place=str(path))
    known = _node_ids(store)
    position = np.minimum(np.searchsorted(known, found.ids), max(len(known) - 1, 0))
    unknown = (
        np.flatnonzero(known[position] != found.ids) if len(known) else np.arange(len(found.ids))
    )
    if len(unknown):
        row = int(unknown[0])
        raise _row_error(
            found.path,
            row,
            f"id {found.ids[row]} is not a node of the store ({len(unknown)} unknown ids)",
        )
    column = "score" if found.kind == "authority" else "label"
    values = found.values.tolist()
    meta = found.meta
    run = {
        "kind": found.kind,
        "engine": str(meta.get("engine", "unknown"))[:16],
        "as_of": int(meta["as_of"]),
        "explicit": int(bool(meta.get("explicit", False))),
        "half_life_days": float(meta["half_life_days"]),
        "state": json.dumps(list(current)),
        "params": json.dumps(meta.get("params", {}), sort_keys=True),
        "computed": int(meta.get("computed", 0)),
        "imported": int(time.time()),
        "file": str(found.path),
        "nodes": len(found.ids),
    }
    with store.begin() as connection:
        connection.execute(delete(schema.scores).where(schema.scores.c.kind == found.kind))
        connection.execute(delete(schema.score_runs).where(schema.score_runs.c.kind == found.kind))
        connection.execute(insert(schema.score_runs), [run])
        ids = found.ids.tolist()
        for start in range(0, len(ids), BATCH):
            connection.execute(
                insert(schema.scores),
                [
                    {"kind": found.kind, "node": node, column: value}
                    for node, value in zip(
                        ids[start : start + BATCH], values[start : start + BATCH], strict=True
                    )
                ],
            )
    return {
        "kind": found.kind,
        "rows": len(found.ids),
        "engine": run["engine"],
        "as_of": run["as_of"],
        "file": str(found.path),
    }


def _run(store: Store, kind: str) -> Any:
    with store.connect() as connection:
        return connection.execute(
            select(schema.score_runs).where(schema.score_runs.c.kind == kind)
        ).first()


def _fits(run: Any, view: GraphView) -> str | None:
    """Why the stored ``run`` does not fit ``view``, or None when it does."""
    if view.mark is None:
        return "the view does not say which store state it holds"
    stale = _stale_reason(json.loads(run.state), tuple(view.mark))
    if stale:
        return stale
    if bool(run.explicit) != view.explicit or (view.explicit and run.as_of != view.as_of):
        return f"they were computed as of {run.as_of}, not for the moment asked"
    if abs(run.half_life_days - view.half_life_days) > 1e-9:
        return f"they were computed with a half-life of {run.half_life_days:g} days"
    return None


def _vector(store: Store, view: GraphView) -> npt.NDArray[np.float64]:
    with store.connect() as connection:
        rows = connection.execute(
            select(schema.scores.c.node, schema.scores.c.score).where(
                schema.scores.c.kind == "authority"
            )
        ).all()
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    values = np.asarray([r[1] for r in rows], dtype=np.float64)
    vector = np.zeros(view.n_nodes)
    if len(ids):
        position = np.searchsorted(view.ids, ids)
        inside = position < view.n_nodes
        inside[inside] = view.ids[position[inside]] == ids[inside]
        vector[position[inside]] = values[inside]
    return vector


def imported_authority(store: Store, view: GraphView) -> Served:
    """The imported authority of ``view``'s nodes when it is fresh for the view (see the
    module docstring); else ``vector`` is None and ``computed_by`` says why."""
    run = _run(store, "authority")
    if run is None:
        return Served(None, "local engine")
    engine = "local engine" if run.engine == "local" else run.engine
    reason = _fits(run, view)
    if reason is not None:
        return Served(None, f"local engine (imported {engine} scores not used: {reason})")
    stamp = ("imported-authority", run.imported, run.computed, run.file)
    vector = view.memo(stamp, lambda: _vector(store, view))
    return Served(vector, f"{engine} (imported)")


def imported_groups(store: Store) -> dict[int, int]:
    """The imported group label (a node id) of every node, empty when none were imported."""
    with store.connect() as connection:
        rows = connection.execute(
            select(schema.scores.c.node, schema.scores.c.label).where(
                schema.scores.c.kind == "groups"
            )
        ).all()
    return {int(node): int(label) for node, label in rows}


__all__ = [
    "KINDS",
    "ScoreFile",
    "Served",
    "import_scores",
    "imported_authority",
    "imported_groups",
    "read_scores",
]
