"""``knotwork import scores FILE...``: bring the results of ``knotwork compute`` (local engine or
Spark) back into the store, so that ``top`` and the API serve them while they are fresh.

>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["scores", "--help"]).exit_code
0
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store, when

app = typer.Typer(help="Bring results computed elsewhere back into the store.")


def _render(summaries: list[dict[str, Any]]) -> None:
    for s in summaries:
        console.print(
            f"imported {s['rows']} {s['kind']} rows computed by {s['engine']} "
            f"as of {when(s['as_of'])} from {s['file']}",
            highlight=False,
        )


@app.command()
def scores(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...",
            help="Result files of knotwork compute: authority (id, score) or groups (id, group).",
        ),
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check each result file (columns, ids, the store unchanged since its export) and replace
    the stored result of its kind; ``top people|items`` then rank by the imported authority."""
    from knotwork.scale.scores import import_scores

    with open_store(db, as_json) as store:
        summaries = [import_scores(store, path) for path in files]
    emit(as_json, summaries, lambda: _render(summaries))


__all__ = ["app"]
