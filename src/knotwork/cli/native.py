"""``knotwork post | need | offer | commit | close | match``: publish and trade on the platform.

Every command that writes names its actor with ``--as ALIAS``.

>>> from typer.testing import CliRunner
>>> from knotwork.cli import app
>>> CliRunner().invoke(app, ["post", "--help"]).exit_code
0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from knotwork.cli.ask import parse_date
from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store

AsOption = Annotated[str, typer.Option("--as", metavar="ALIAS", help="Who acts (an alias).")]
TextArgument = Annotated[str, typer.Argument(metavar="TEXT", help="What it says.")]
CitesOption = Annotated[
    list[str] | None,
    typer.Option("--cites", metavar="ITEM", help="An item it builds on (id, key, sha, path)."),
]


def lines(texts: list[str]) -> Callable[[], None]:
    """A renderer printing ``texts``, one a line."""

    def render() -> None:
        for text in texts:
            console.print(text, highlight=False)

    return render


def _done(as_json: bool, kind: str, node_id: int) -> None:
    emit(as_json, {"id": node_id, "kind": kind}, lambda: console.print(f"{kind} {node_id}"))


def post(
    text: TextArgument,
    actor: AsOption,
    cites: CitesOption = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="The purpose it serves.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish a work item, linking to what it builds on."""
    from knotwork.services import native

    with open_store(db, as_json) as store:
        _done(as_json, "post", native.post(store, actor, text, cites=cites or [], purpose=purpose))


def need(
    text: TextArgument,
    actor: AsOption,
    until: Annotated[str | None, typer.Option("--until", metavar="DATE")] = None,
    cites: CitesOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Say what information or help you need."""
    from knotwork.services import native

    with open_store(db, as_json) as store:
        found = native.need(store, actor, text, until=parse_date(until), cites=cites or [])
        _done(as_json, "need", found)


def offer(
    text: TextArgument,
    actor: AsOption,
    capacity: Annotated[str, typer.Option("--capacity", help="Spare time, e.g. 4h/week.")] = (
        "1h/week"
    ),
    until: Annotated[str | None, typer.Option("--until", metavar="DATE")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Offer spare capacity."""
    from knotwork.services import native

    with open_store(db, as_json) as store:
        found = native.offer(store, actor, text, capacity=capacity, until=parse_date(until))
        _done(as_json, "offer", found)


def commit(
    offer_id: Annotated[int, typer.Argument(metavar="OFFER_ID")],
    need_id: Annotated[int, typer.Argument(metavar="NEED_ID")],
    actor: AsOption,
    hours: Annotated[float, typer.Option("--hours", help="Hours per week given.")] = 1.0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Commit hours of your offer to a need (never beyond its capacity)."""
    from knotwork.services import market

    with open_store(db, as_json) as store:
        left = market.commit(store, actor, offer_id, need_id, hours=hours)
        emit(
            as_json,
            {"offer": offer_id, "need": need_id, "left": left},
            lambda: console.print(f"committed; {left:g} hours left"),
        )


def close(
    item_id: Annotated[int, typer.Argument(metavar="ID")],
    actor: AsOption,
    state: Annotated[str, typer.Option("--state", help="fulfilled or withdrawn.")] = "fulfilled",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark your need or offer fulfilled or withdrawn."""
    from knotwork.services import native

    with open_store(db, as_json) as store:
        native.set_state(store, actor, item_id, state)
        emit(as_json, {"id": item_id, "state": state}, lambda: console.print(state))


def match(
    item_id: Annotated[int | None, typer.Argument(metavar="NEED_ID")] = None,
    offers: Annotated[
        int | None, typer.Option("--offers", metavar="OFFER_ID", help="Needs for this offer.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """People and offers ranked for a need (or needs for an offer), each with its reasons."""
    from knotwork.services import market

    with open_store(db, as_json) as store:
        if offers is not None:
            found = market.match_offer(store, offers, limit=limit)
            emit(
                as_json,
                found,
                lines([f"{m['score']:.3g}  need {m['need']}  {m['name']}" for m in found]),
            )
            return
        if item_id is None:
            raise typer.BadParameter("give a NEED_ID or --offers OFFER_ID")
        ranked = market.match(store, item_id, limit=limit)
        emit(
            as_json,
            ranked,
            lines([f"{m['score']:.3f}  {m['key']}  ({'; '.join(m['reasons'])})" for m in ranked]),
        )


__all__ = ["close", "commit", "lines", "match", "need", "offer", "post"]
