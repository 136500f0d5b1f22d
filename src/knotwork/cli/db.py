"""``knotwork db ...``: the store's schema."""

from __future__ import annotations

import typer

from knotwork.cli.common import DbOption, JsonOption, emit, open_store

app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True)


@app.command()
def upgrade(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Create the store or migrate it to the newest schema."""
    with open_store(db, as_json) as store:
        version = store.schema_version()
    emit(as_json, {"schema_version": version}, lambda: print(f"schema at revision {version}"))


__all__ = ["app"]
