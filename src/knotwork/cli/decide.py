"""``knotwork propose | affected | respond | decisions | decision | participation | questions``.

>>> from typer.testing import CliRunner
>>> from knotwork.cli import app
>>> CliRunner().invoke(app, ["propose", "--help"]).exit_code
0
"""

from __future__ import annotations

from typing import Annotated

import typer

from knotwork.cli.ask import day, parse_date
from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store
from knotwork.cli.native import AsOption, lines
from knotwork.errors import InputError
from knotwork.store.identity import resolve

IdArgument = Annotated[int, typer.Argument(metavar="PROPOSAL_ID")]


def propose(
    text: Annotated[str, typer.Argument(metavar="TEXT")],
    actor: AsOption,
    affects: Annotated[
        list[str], typer.Option("--affects", metavar="ITEM|GROUP|PATH", help="What it affects.")
    ],
    closes: Annotated[str, typer.Option("--closes", metavar="DATE")],
    kind: Annotated[str, typer.Option("--kind", help="consent, vote, score or ranked.")] = (
        "consent"
    ),
    options: Annotated[list[str] | None, typer.Option("--option", help="An option.")] = None,
    quorum: Annotated[float, typer.Option("--quorum", help="Share of affected needed.")] = 0.0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a proposal affecting items, groups or paths."""
    from knotwork.services import decisions as service

    with open_store(db, as_json) as store:
        moment = parse_date(closes)
        if moment is None:
            raise InputError("a closing date is required", place="--closes")
        found = service.propose(
            store,
            actor,
            text,
            affects=affects,
            closes=moment,
            kind=kind,
            options=options or [],
            quorum=quorum,
        )
        emit(as_json, {"id": found}, lambda: console.print(f"proposal {found}"))


def affected(proposal: IdArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Who a proposal affects, how strongly, and the evidence."""
    from knotwork.services import decisions as service

    with open_store(db, as_json) as store:
        found = service.affected(store, proposal)
        emit(
            as_json,
            found,
            lines(
                [f"{a['strength']:.2f}  {a['key']}  ({'; '.join(a['evidence'])})" for a in found]
            ),
        )


def respond(
    proposal: IdArgument,
    actor: AsOption,
    choice: Annotated[
        str, typer.Argument(metavar="CHOICE", help="e.g. agree|abstain|disagree|block")
    ],
    reason: Annotated[str, typer.Argument(metavar="REASON")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Respond to a proposal as yourself (a later response replaces yours until close)."""
    from knotwork.services import decisions as service

    with open_store(db, as_json) as store:
        service.respond(store, proposal, actor, choice, reason)
        emit(as_json, {"id": proposal, "choice": choice}, lambda: console.print("recorded"))


def decisions(
    only_open: Annotated[bool, typer.Option("--open", help="Only open proposals.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Proposals, newest first."""
    from knotwork.services import decisions as service

    with open_store(db, as_json) as store:
        found = service.decisions(store, only_open=only_open)
        emit(
            as_json,
            found,
            lines(
                [
                    f"{d['id']}  {d['status']:<6} {d['kind']:<8} closes {day(d['closes'])}"
                    f"  {d['name']}"
                    for d in found
                ]
            ),
        )


def decision(proposal: IdArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A proposal's outcome, turnout among the affected, reasons and reminders."""
    from knotwork.services import decisions as service

    with open_store(db, as_json) as store:
        found = service.decision(store, proposal)
        emit(
            as_json,
            found,
            lambda: console.print(
                f"{found['status']}: {found['result']}  turnout {found['turnout']:.0%} of "
                f"{found['affected']} affected; {len(found['reminders'])} to remind",
                highlight=False,
            ),
        )


def participation(
    person: Annotated[str | None, typer.Option("--person", metavar="ALIAS")] = None,
    k_min: Annotated[int, typer.Option("--k-min")] = 5,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Participation index: decisions taken part in / decisions that affected the person."""
    from knotwork.services.participation import participation as participation_of

    with open_store(db, as_json) as store:
        who = None if person is None else resolve(store, person)
        found = participation_of(store, person=who, k_min=k_min)
        emit(
            as_json,
            found,
            lines(
                [
                    f"{p['index']:.2f}  {p['responded']}/{p['affected']}  {p['key']}"
                    for p in found["people"]
                ]
            ),
        )


def questions(actor: AsOption, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The three questions answered for you: what you need, what you owe, whom to talk to."""
    from knotwork.services.questions import questions as questions_of

    with open_store(db, as_json) as store:
        found = questions_of(store, actor)

        def render() -> None:
            console.print("What information do I need?")
            for n in found["need_to_know"]["needs"]:
                console.print(f"  need {n['id']}: {n['name']}", highlight=False)
            for i in found["need_to_know"]["items"]:
                console.print(f"  {i['key'][:60]}", highlight=False)
            console.print("What information do I owe others?")
            for o in found["owe"]:
                console.print(f"  {o['key']}: {o['reason']}", highlight=False)
            console.print("With whom should I communicate?")
            for t in found["talk_to"]:
                console.print(f"  {t['key']}: {t['reason']}", highlight=False)

        emit(as_json, found, render)


__all__ = ["affected", "decision", "decisions", "participation", "propose", "questions", "respond"]
