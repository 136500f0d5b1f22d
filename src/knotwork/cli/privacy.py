"""``knotwork erase PERSON`` and ``knotwork export --pseudonymize --out DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store
from knotwork.store.accounts import secret_key


def erase(
    person: Annotated[str, typer.Argument(help="An alias of the person (email, handle, name).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase a person completely; re-ingesting the sources does not bring them back."""
    from knotwork.store.erase import erase as run

    if not yes and not as_json:
        typer.confirm(f"Erase {person} and everything they authored?", abort=True)
    with open_store(db, as_json) as store:
        result = run(store, person, key=secret_key())
    emit(as_json, result, lambda: console.print(f"erased: {result}", highlight=False))


def export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files to.")],
    form: Annotated[
        str,
        typer.Argument(
            metavar="[FORMAT]",
            help="csv (nodes.csv, links.csv and GraphML) or parquet (the view, decayed, "
            "partitioned by link kind: the input of `compute --engine spark`).",
        ),
    ] = "csv",
    pseudonymize: Annotated[
        bool, typer.Option("--pseudonymize", help="Replace ids, names and emails by a keyed hash.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export nodes and links as CSV and GraphML (pseudonymized with --pseudonymize), or the
    view as partitioned Parquet (opaque ids only, no names or emails)."""
    from knotwork.errors import InputError
    from knotwork.store.export import export as run

    if form not in ("csv", "parquet"):
        raise typer.BadParameter(f"expected csv or parquet, not {form}")
    with open_store(db, as_json) as store:
        if form == "parquet":
            from knotwork.graph.view import GraphView
            from knotwork.scale.parquet import export_view

            if pseudonymize:
                raise InputError("a Parquet export holds opaque ids only", place="--pseudonymize")
            export_view(GraphView.build(store), out)
            files = sorted(p for p in out.rglob("*") if p.is_file())
        else:
            files = run(store, out, key=secret_key() if pseudonymize else None)
    emit(
        as_json,
        {"files": [str(f) for f in files]},
        lambda: console.print("\n".join(map(str, files))),
    )
