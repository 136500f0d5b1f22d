"""``knotwork identities suggest | merge A B | split A | list PERSON | reject A B | link``.

>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["--help"]).exit_code
0
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store, when
from knotwork.store.identity import suggest
from knotwork.store.merge import history, link_platforms
from knotwork.store.merge import merge as store_merge
from knotwork.store.merge import reject as store_reject
from knotwork.store.merge import split as store_split

app = typer.Typer(
    help="Resolve identities: suggest, merge, split, reject and link people.", no_args_is_help=True
)

Who = Annotated[str, typer.Argument(help="A person: an email, key, name, handle or node id.")]


def _render_suggestions(found: list[dict[str, Any]]) -> None:
    if not found:
        console.print("no suggestions")
        return
    table = Table(title="people who may be one (merge with: knotwork identities merge A B)")
    table.add_column("A")
    table.add_column("B")
    table.add_column("evidence")
    for row in found:
        table.add_row(row["a"]["key"], row["b"]["key"], "\n".join(row["evidence"]))
    console.print(table)


@app.command(name="suggest")
def suggest_command(
    limit: Annotated[int, typer.Option(help="How many suggestions to show.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pairs of people who may be one, with the evidence (same name, name = email). Never merges."""
    with open_store(db, as_json) as store:
        found = suggest(store, limit=limit)
    emit(as_json, found, lambda: _render_suggestions(found))


@app.command()
def merge(
    kept: Who,
    merged: Who,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Merge person MERGED into KEPT (recorded; undo with ``split MERGED``)."""
    with open_store(db, as_json) as store:
        done = store_merge(store, kept, merged)
    moved = done["moved"]
    emit(
        as_json,
        done,
        lambda: console.print(
            f"merged {done['merged']['key']} into {done['kept']['key']} (merge {done['merge']}): "
            f"{moved['aliases']} aliases, {moved['src'] + moved['dst']} link ends moved",
            highlight=False,
        ),
    )


@app.command()
def split(person: Who, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Undo the merge of PERSON: the graph is exactly as before the merge."""
    with open_store(db, as_json) as store:
        done = store_split(store, person)
    emit(
        as_json,
        done,
        lambda: console.print(
            f"split person {done['split']} from {done['kept']} (merge {done['merge']} undone)"
        ),
    )


@app.command()
def reject(one: Who, other: Who, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Reject a suggestion: ONE and OTHER are two people, not to be suggested again."""
    with open_store(db, as_json) as store:
        done = store_reject(store, one, other)
    emit(as_json, done, lambda: console.print(f"{one} and {other} are kept apart"))


@app.command()
def link(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Merge people tied by strong evidence: the same platform handle (e.g. ``ada@github``).

    Run it after ingesting: it also folds newly ingested rows of people merged before.
    """
    with open_store(db, as_json) as store:
        made = link_platforms(store)
    emit(
        as_json,
        made,
        lambda: console.print(
            "\n".join(
                f"merged {m['merged']['key']} into {m['kept']['key']} ({m['evidence']})"
                for m in made
            )
            or "nothing to merge",
            highlight=False,
        ),
    )


def _render_history(data: dict[str, Any]) -> None:
    console.print(f"[bold]{data['key']}[/] (id {data['id']})", highlight=False)
    for alias in data["aliases"]:
        console.print(f"  {alias['kind']:6} {alias['value']}", highlight=False)
    for row in data["merges"]:
        state = f"split {when(row['split'])}" if row["split"] is not None else "in force"
        console.print(
            f"  merge {row['merge']}: {row['merged']} -> {row['kept']} ({row['evidence']}, "
            f"{when(row['time'])}, {state})",
            highlight=False,
        )


@app.command(name="list")
def list_command(person: Who, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A person's aliases and the merges that involved them."""
    with open_store(db, as_json) as store:
        data = history(store, person)
    emit(as_json, data, lambda: _render_history(data))


__all__ = ["app"]
