"""``knotwork groups [history] | team``: the groups that really exist, and who could form a team.

>>> parse_every("90d"), parse_every("2w"), parse_every("30")
(90.0, 14.0, 30.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from knotwork.cli.ask import AsOfOption, day, parse_date
from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store
from knotwork.errors import InputError
from knotwork.services.privacy import DEFAULT_K_MIN

if TYPE_CHECKING:
    from knotwork.services.groups import GroupsResult
    from knotwork.services.team import Team

app = typer.Typer(
    help="Emergent groups: who works with whom, and how groups change.",
    invoke_without_command=True,
    rich_markup_mode=None,
)

ResolutionOption = Annotated[
    float, typer.Option("--resolution", help="Higher: more, smaller groups.")
]
KMinOption = Annotated[
    int, typer.Option("--k-min", help="Groups smaller than this are not listed (at least 3).")
]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed of the Leiden algorithm.")]


def parse_every(text: str) -> float:
    """Days in ``90d``, ``12w`` or a plain number of days."""
    units = {"d": 1.0, "w": 7.0, "y": 365.0}
    value, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "d")
    try:
        days = float(value) * units[unit]
    except ValueError:
        raise InputError("expected days such as 90d, 12w or 1y", place=f"--every {text}") from None
    if days <= 0:
        raise InputError("must be positive", place=f"--every {text}")
    return days


def _render_groups(result: GroupsResult) -> None:
    console.print(
        f"as of {day(result.as_of)}: {len(result.groups)} groups of {result.people} people "
        f"({result.isolated} without ties), modularity {result.modularity:.3f}",
        highlight=False,
    )
    for group in result.groups:
        if group.suppressed:
            continue
        console.print(
            f"[bold]group {group.id}[/]  {group.size} people  cohesion {group.cohesion:.0%}",
            highlight=False,
        )
        if group.terms:
            console.print(f"    words: {', '.join(group.terms)}", highlight=False)
        if group.paths:
            console.print(f"    paths: {', '.join(group.paths)}", highlight=False)
    if result.suppressed:
        console.print(
            f"{result.suppressed} groups of fewer than {result.k_min} people are not listed",
            highlight=False,
        )


@app.callback()
def groups(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    resolution: ResolutionOption = 1.0,
    k_min: KMinOption = DEFAULT_K_MIN,
    admin: Annotated[
        bool, typer.Option("--admin", help="List groups smaller than k-min too.")
    ] = False,
    seed: SeedOption = 0,
    top_k: Annotated[
        int | None,
        typer.Option("--top-k", help="Keep each person's strongest ties only (large graphs)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the emergent groups: size, cohesion, distinctive words and paths."""
    from knotwork.services.groups import groups as find

    if ctx.invoked_subcommand is not None:
        return
    with open_store(db, as_json) as store:
        result = find(
            store,
            as_of=parse_date(as_of),
            resolution=resolution,
            seed=seed,
            k_min=k_min,
            admin=admin,
            top_k=top_k,
        )
        emit(as_json, result.to_dict(), lambda: _render_groups(result))


@app.command()
def history(
    every: Annotated[str, typer.Option("--every", help="Slice length: 90d, 12w, 1y.")] = "90d",
    resolution: ResolutionOption = 1.0,
    k_min: KMinOption = DEFAULT_K_MIN,
    seed: SeedOption = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """How groups formed, grew, shrank, merged, split and dissolved over time."""
    from knotwork.services.groups_history import history as group_history

    with open_store(db, as_json) as store:
        events = group_history(
            store, every_days=parse_every(every), resolution=resolution, seed=seed, k_min=k_min
        )

        def render() -> None:
            if not events:
                console.print("no groups of at least k-min people in any slice")
            for e in events:
                sources = f" from/into {e.sources}" if e.sources else ""
                words = f"  ({', '.join(e.terms[:4])})" if e.terms else ""
                console.print(
                    f"{day(e.time)}  group {e.group:<4} {e.kind:<9} "
                    f"{e.previous_size:>4} -> {e.size:<4}{sources}{words}",
                    highlight=False,
                )

        emit(as_json, [e.__dict__ for e in events], render)


def _render_team(proposal: Team) -> None:
    console.print(
        f"as of {day(proposal.as_of)}: {len(proposal.members)} people cover "
        f"{proposal.coverage:.0%} of {proposal.relevant_items} relevant items; "
        + (
            f"mean {proposal.mean_hops} hops apart (at most {proposal.max_hops})"
            if proposal.connected
            else "not all connected"
        ),
        highlight=False,
    )
    for m in proposal.members:
        flags = " (inactive)" if m.inactive else ""
        flags += " (has capacity)" if m.capacity else ""
        near = "first pick" if m.hops == 0 else f"{m.hops} hops from the team"
        console.print(
            f"[bold]{m.name or m.key}[/] <{m.key}>{flags}: adds {m.gain:.0%}, {near}",
            highlight=False,
        )
        for what in m.paths + m.covers:
            console.print(f"    {what[:90]}", highlight=False)


def team(
    purpose: Annotated[str, typer.Argument(help="The purpose: words, paths, or both.")],
    size: Annotated[int, typer.Option("--size", "-k", help="How many people.")] = 4,
    as_of: AsOfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose a team for a purpose: who covers it best while staying close to each other."""
    from knotwork.services.team import team as propose

    with open_store(db, as_json) as store:
        proposal = propose(store, purpose, size=size, as_of=parse_date(as_of))
        emit(as_json, proposal.to_dict(), lambda: _render_team(proposal))


__all__ = ["app", "groups", "history", "parse_every", "team"]
