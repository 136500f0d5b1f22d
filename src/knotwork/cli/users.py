"""``knotwork users add | revoke | list``: API accounts; a token is printed once, stored hashed."""

from __future__ import annotations

from typing import Annotated

import typer

from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store
from knotwork.store.accounts import add_user, list_users, revoke, secret_key

app = typer.Typer(help="API users and their tokens.", no_args_is_help=True)


@app.command("add")
def add(
    alias: Annotated[str, typer.Argument(help="The user's email or handle.")],
    role: Annotated[str, typer.Option(help="member, analyst or admin.")] = "member",
    days: Annotated[float, typer.Option(help="Days until the token expires.")] = 90.0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user (or give a new token); the token is printed now and never again."""
    with open_store(db, as_json) as store:
        token = add_user(store, alias, role, key=secret_key(), days=days)
    emit(
        as_json,
        {"alias": alias, "role": role, "token": token},
        lambda: console.print(f"{alias} ({role}): {token}", highlight=False),
    )


@app.command("revoke")
def remove(
    alias: Annotated[str, typer.Argument(help="The user's email or handle.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke every token of a user."""
    with open_store(db, as_json) as store:
        count = revoke(store, alias)
    emit(as_json, {"alias": alias, "revoked": count}, lambda: console.print(f"revoked {count}"))


@app.command("list")
def show(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every user with role and live token count."""
    with open_store(db, as_json) as store:
        rows = list_users(store)

    def render() -> None:
        for row in rows:
            console.print(f"{row['alias']}  {row['role']}  tokens {row['tokens']}", highlight=False)

    emit(as_json, rows, render)
