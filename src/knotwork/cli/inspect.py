"""``knotwork stats | person | digest``: look into the store."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store, when
from knotwork.store.digest import digest as store_digest
from knotwork.store.identity import profile, resolve
from knotwork.store.stats import stats as store_stats


def _render_stats(data: dict[str, Any]) -> None:
    for title in ("nodes", "links"):
        table = Table(title=title, title_justify="left")
        table.add_column("kind")
        table.add_column("count", justify="right")
        for kind, count in data[title].items():
            table.add_row(kind, f"{count:,}")
        console.print(table)
    flagged = data["flagged"]
    console.print(
        f"aliases: {data['aliases']:,}   bots: {flagged['bots']:,}   "
        f"suspect dates: {flagged['time_suspect']:,}   with defects: {flagged['defects']:,}"
    )
    span = data["time_span"]
    console.print(f"time span: {when(span['first'])} .. {when(span['last'])}")
    for source in data["sources"]:
        console.print(
            f"source {source['name']} ({source['kind']}) at {source['location']}, "
            f"updated {when(source['updated'])}, cursor {source['cursor']}",
            highlight=False,
        )


def stats(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Nodes and links by kind, sources and their cursors, and the time span."""
    with open_store(db, as_json) as store:
        data = store_stats(store)
    emit(as_json, data, lambda: _render_stats(data))


def _render_person(data: dict[str, Any]) -> None:
    bot = " [yellow](bot)[/]" if data["bot"] else ""
    console.print(f"[bold]{data['name'] or data['key']}[/] <{data['key']}>{bot}", highlight=False)
    console.print(
        f"active {when(data['first_activity'])} .. {when(data['last_activity'])}   "
        + "  ".join(f"{k}: {v:,}" for k, v in data["links"].items())
    )
    console.print(
        "aliases: " + ", ".join(f"{a['value']} ({a['kind']})" for a in data["aliases"]),
        highlight=False,
    )
    for title in ("files", "coworkers"):
        table = Table(title=title, title_justify="left")
        table.add_column("key")
        table.add_column("count", justify="right")
        for row in data[title]:
            table.add_row(row["key"], f"{row['count']:,}")
        console.print(table)


def person(
    alias: Annotated[
        str, typer.Argument(metavar="ALIAS", help="An email address, name or handle.")
    ],
    limit: Annotated[int, typer.Option(help="How many files and co-workers to list.")] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A person: aliases, first and last activity, files and co-workers."""
    with open_store(db, as_json) as store:
        data = profile(store, resolve(store, alias), limit=limit)
    emit(as_json, data, lambda: _render_person(data))


def digest(db: DbOption = None, as_json: JsonOption = False) -> None:
    """A stable hash of the whole graph, for comparing two stores."""
    with open_store(db, as_json) as store:
        value = store_digest(store)
    emit(as_json, {"digest": value}, lambda: print(value))


__all__ = ["digest", "person", "stats"]
