"""``knotwork compute authority | groups``: the batch jobs, on the local engine or on Spark.

>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["authority", "--help"]).exit_code
0
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from knotwork.cli.ask import AsOfOption, parse_date
from knotwork.cli.common import DbOption, JsonOption, console, emit, handle_errors, open_store

app = typer.Typer(help="Batch graph jobs on the local engine or on Apache Spark.")

EngineOption = Annotated[
    str, typer.Option("--engine", help="local (this process) or spark (PySpark, --master).")
]
MasterOption = Annotated[
    str, typer.Option("--master", help="Spark master: local[2], spark://host:7077, yarn.")
]
OutOption = Annotated[Path, typer.Option("--out", help="Parquet file to write the result to.")]


InputOption = Annotated[
    Path | None,
    typer.Option(
        "--input",
        metavar="EXPORT",
        help="Read a Parquet export (knotwork export parquet) instead of the store.",
    ),
]


def _run(
    job: Callable[..., dict[str, Any]], source: Path | None, db: str | None, as_json: bool
) -> dict[str, Any]:
    """Run ``job`` on the export ``source``, or on the store when there is none."""
    if source is not None:
        with handle_errors(as_json):
            return job(source)
    with open_store(db, as_json) as store:
        return job(store)


def _render(summary: dict[str, Any]) -> None:
    console.print(", ".join(f"{k} {v}" for k, v in summary.items()), highlight=False)


@app.command()
def authority(
    out: OutOption = Path("authority.parquet"),
    engine: EngineOption = "local",
    master: MasterOption = "local[2]",
    damping: Annotated[float, typer.Option("--damping", help="PageRank damping.")] = 0.85,
    tol: Annotated[float, typer.Option("--tol", help="Stop at this L1 change.")] = 1e-6,
    as_of: AsOfOption = None,
    source: InputOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """PageRank authority of every node (the ``top`` ranking), written as Parquet (id, score)."""
    from knotwork.scale.jobs import compute_authority

    summary = _run(
        lambda data: compute_authority(
            data,
            out,
            engine=engine,
            master=master,
            as_of=parse_date(as_of),
            damping=damping,
            tol=tol,
        ),
        source,
        db,
        as_json,
    )
    emit(as_json, summary, lambda: _render(summary))


@app.command()
def groups(
    out: OutOption = Path("groups.parquet"),
    engine: EngineOption = "local",
    method: Annotated[
        str, typer.Option("--method", help="components or propagation (label propagation).")
    ] = "propagation",
    master: MasterOption = "local[2]",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the starting labels.")] = 0,
    as_of: AsOfOption = None,
    source: InputOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Groups of the whole graph at scale (Leiden stays local: ``knotwork groups``), as Parquet."""
    from knotwork.scale.jobs import compute_groups

    summary = _run(
        lambda data: compute_groups(
            data,
            out,
            engine=engine,
            method=method,
            master=master,
            as_of=parse_date(as_of),
            seed=seed,
        ),
        source,
        db,
        as_json,
    )
    emit(as_json, summary, lambda: _render(summary))


__all__ = ["app"]
