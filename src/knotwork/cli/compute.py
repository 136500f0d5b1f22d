"""``knotwork compute authority | groups``: the batch jobs, on the local engine or on Spark.

>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["authority", "--help"]).exit_code
0
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from knotwork.cli.ask import AsOfOption, parse_date
from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store

app = typer.Typer(help="Batch graph jobs on the local engine or on Apache Spark.")

EngineOption = Annotated[
    str, typer.Option("--engine", help="local (this process) or spark (PySpark, --master).")
]
MasterOption = Annotated[
    str, typer.Option("--master", help="Spark master: local[2], spark://host:7077, yarn.")
]
OutOption = Annotated[Path, typer.Option("--out", help="Parquet file to write the result to.")]


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
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """PageRank authority of every node (the ``top`` ranking), written as Parquet (id, score)."""
    from knotwork.scale.jobs import compute_authority

    with open_store(db, as_json) as store:
        summary = compute_authority(
            store,
            out,
            engine=engine,
            master=master,
            as_of=parse_date(as_of),
            damping=damping,
            tol=tol,
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
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Groups of the whole graph at scale (Leiden stays local: ``knotwork groups``), as Parquet."""
    from knotwork.scale.jobs import compute_groups

    with open_store(db, as_json) as store:
        summary = compute_groups(
            store,
            out,
            engine=engine,
            method=method,
            master=master,
            as_of=parse_date(as_of),
            seed=seed,
        )
    emit(as_json, summary, lambda: _render(summary))


__all__ = ["app"]
