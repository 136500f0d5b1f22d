"""``knotwork erase PERSON``, ``knotwork opt-out PERSON`` and
``knotwork export --pseudonymize --format FORMAT --out DIR``."""

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
            metavar="[WHAT]",
            help="csv: the node and link tables, in the formats of --format; parquet: the "
            "view, decayed, partitioned by link kind (the input of `compute --engine spark`).",
        ),
    ] = "csv",
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="csv, graphml, gexf, parquet or all (repeatable) for the tables [default: "
            "csv and graphml].",
        ),
    ] = None,
    pseudonymize: Annotated[
        bool, typer.Option("--pseudonymize", help="Replace ids, names and emails by a keyed hash.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export nodes and links as CSV, GraphML, GEXF or Parquet tables (pseudonymized with
    --pseudonymize: ids, people and item keys become a keyed hash), or the view as partitioned
    Parquet (opaque ids only, no names or emails). People who opted out are left out."""
    from knotwork.errors import InputError
    from knotwork.store.export import check_formats
    from knotwork.store.export import export as run

    if form not in ("csv", "parquet"):
        raise typer.BadParameter(f"expected csv or parquet, not {form}")
    with open_store(db, as_json) as store:
        chosen = check_formats(formats or ["csv", "graphml"])
        if form == "parquet":
            from knotwork.graph.view import GraphView
            from knotwork.scale.parquet import export_view

            if pseudonymize:
                raise InputError(
                    "the view for Spark holds opaque ids only; for pseudonymized Parquet "
                    "tables use `export --format parquet --pseudonymize`",
                    place="--pseudonymize",
                )
            export_view(GraphView.build(store), out)
            files = sorted(p for p in out.rglob("*") if p.is_file())
        else:
            files = run(store, out, key=secret_key() if pseudonymize else None, formats=chosen)
    emit(
        as_json,
        {"files": [str(f) for f in files]},
        lambda: console.print("\n".join(map(str, files))),
    )


def opt_out(
    person: Annotated[str, typer.Argument(help="An alias of the person (email, handle, name).")],
    undo: Annotated[bool, typer.Option("--undo", help="Opt the person back in.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Opt a person out: they appear in no result and count in no group (who-knows, top
    people, groups, team, health, matches, affected people, participation, exports)."""
    from knotwork.store.erase import opt_out as run

    with open_store(db, as_json) as store:
        pid = run(store, person, out=not undo)
    result = {"person": pid, "opted_out": not undo}
    word = "opted back in" if undo else "opted out"
    emit(as_json, result, lambda: console.print(f"{person}: {word}", highlight=False))
