"""``knotwork who-knows | top | explain``: ask the graph who knows and who matters.

>>> parse_date("2019-06-01")
1559347200
>>> parse_date(None) is None
True
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store
from knotwork.errors import InputError
from knotwork.graph.view import DEFAULT_HALF_LIFE_DAYS, EXPERTISE_HALF_LIFE_DAYS

if TYPE_CHECKING:
    from knotwork.services.expertise import Answer

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", metavar="DATE", help="Ask the graph as it stood then (YYYY-MM-DD, UTC)."
    ),
]
HalfLifeOption = Annotated[
    float, typer.Option("--half-life", help="Days after which a link counts half.")
]
LimitOption = Annotated[int, typer.Option("--limit", "-n", help="How many to list.")]


def parse_date(text: str | None) -> int | None:
    """Unix seconds of a date (``YYYY-MM-DD``) or ISO date-time, in UTC; None passes."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError("expected a date such as 2019-06-01", place=f"--as-of {text}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def day(seconds: int | None) -> str:
    """A Unix time as a date, or ``-``.

    >>> day(0)
    '1970-01-01'
    """
    return "-" if seconds is None else datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")


def _render_answer(answer: Answer) -> None:
    matched = ", ".join(f"{t['term']} ({t['kind']}: {t['matched']})" for t in answer.terms)
    console.print(f"as of {day(answer.as_of)}; matched: {matched}", highlight=False)
    if not answer.experts:
        console.print("nobody found: the query matched no item with people on it")
        return
    for expert in answer.experts:
        flag = " [yellow](inactive)[/]" if expert.inactive else ""
        console.print(
            f"{expert.rank:>2}. [bold]{expert.name or expert.key}[/] <{expert.key}>{flag}  "
            f"score {expert.score:.3g}  last active {day(expert.last_active)}",
            highlight=False,
        )
        for item in expert.evidence:
            files = f"  ({', '.join(item.files)})" if item.files else ""
            console.print(
                f"      {item.share:>4.0%} {'/'.join(item.links):<16} {day(item.time)} "
                f"{item.key[:12]} {item.name[:60]}{files}",
                highlight=False,
            )


def who_knows(
    query: Annotated[
        list[str],
        typer.Argument(metavar="QUERY...", help="Free text, paths, path prefixes or globs."),
    ],
    limit: LimitOption = 10,
    as_of: AsOfOption = None,
    half_life: HalfLifeOption = EXPERTISE_HALF_LIFE_DAYS,
    evidence: Annotated[int, typer.Option(help="Evidence items per person.")] = 3,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who knows about QUERY: people ranked by personalized PageRank, with the evidence."""
    from knotwork.services.expertise import who_knows as ask

    with open_store(db, as_json) as store:
        answer = ask(
            store,
            " ".join(query),
            limit=limit,
            as_of=parse_date(as_of),
            half_life_days=half_life,
            evidence=evidence,
        )
    emit(as_json, answer.to_dict(), lambda: _render_answer(answer))


class What(StrEnum):
    """What ``top`` ranks."""

    people = "people"
    items = "items"


def _render_top(rows: list[dict[str, Any]]) -> None:
    table = Table(title_justify="left")
    for column in ("rank", "score", "kind", "key", "name", "when"):
        table.add_column(column, justify="right" if column in ("rank", "score") else "left")
    for row in rows:
        when = row.get("last_active", row.get("time"))
        flag = " (inactive)" if row.get("inactive") else ""
        table.add_row(
            str(row["rank"]),
            f"{row['score']:.3g}",
            str(row["kind"]),
            str(row["key"])[:60],
            str(row["name"])[:50],
            day(when) + flag,
        )
    console.print(table)
    if rows:
        console.print(f"authority computed by: {rows[0]['computed_by']}", highlight=False)


def top(
    what: Annotated[What, typer.Argument(help="people or items.")],
    kind: Annotated[
        str | None, typer.Option(help="Only items of this kind (file, commit, ...).")
    ] = None,
    limit: LimitOption = 20,
    as_of: AsOfOption = None,
    half_life: HalfLifeOption = DEFAULT_HALF_LIFE_DAYS,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The people or work items with the highest authority (PageRank), bots left out."""
    from knotwork.services.authority import top_items, top_people

    with open_store(db, as_json) as store:
        moment = parse_date(as_of)
        if what is What.people:
            rows = top_people(store, limit=limit, as_of=moment, half_life_days=half_life)
        else:
            try:
                rows = top_items(
                    store, kind=kind, limit=limit, as_of=moment, half_life_days=half_life
                )
            except ValueError:
                raise InputError("not a kind of node", place=f"--kind {kind}") from None
    emit(as_json, rows, lambda: _render_top(rows))


def _render_explain(data: dict[str, Any]) -> None:
    rank = "unranked" if data["rank"] is None else f"rank {data['rank']} of {data['of']}"
    console.print(
        f"[bold]{data['name'] or data['key']}[/] <{data['key']}>: {rank} for "
        f"{data['query']!r}, score {data['score']:.3g}, last active {day(data['last_active'])}",
        highlight=False,
    )
    console.print(
        "mass by link: " + ", ".join(f"{k} {v:.0%}" for k, v in data["links"].items()),
        highlight=False,
    )
    for item in data["evidence"]:
        files = f"  ({', '.join(item['files'])})" if item["files"] else ""
        console.print(
            f"  {item['share']:>4.0%} {'/'.join(item['links']):<16} {day(item['time'])} "
            f"{item['key'][:12]} {item['name'][:60]}{files}",
            highlight=False,
        )


def explain(
    person: Annotated[str, typer.Argument(metavar="PERSON", help="Email, name or handle.")],
    query: Annotated[list[str], typer.Argument(metavar="QUERY...", help="The query.")],
    as_of: AsOfOption = None,
    half_life: HalfLifeOption = EXPERTISE_HALF_LIFE_DAYS,
    evidence: Annotated[int, typer.Option(help="Evidence items to list.")] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why PERSON ranks where they do for QUERY: mass by kind of link, and the items."""
    from knotwork.services.expertise import explain as explain_person

    with open_store(db, as_json) as store:
        data = explain_person(
            store,
            person,
            " ".join(query),
            as_of=parse_date(as_of),
            half_life_days=half_life,
            evidence=evidence,
        )
    emit(as_json, data, lambda: _render_explain(data))


__all__ = ["explain", "parse_date", "top", "who_knows"]
