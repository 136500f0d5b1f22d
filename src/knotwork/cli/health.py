"""``knotwork health | report | me``: the health of the network, the HTML report, your own view.

>>> from typer.testing import CliRunner
>>> from knotwork.cli import app
>>> CliRunner().invoke(app, ["health", "--help"]).exit_code
0
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from knotwork.cli.ask import AsOfOption, parse_date
from knotwork.cli.common import DbOption, JsonOption, console, emit, open_store
from knotwork.config import Settings

if TYPE_CHECKING:
    from knotwork.services.health_base import Metric

KMinOption = Annotated[
    int | None,
    typer.Option(
        "--k-min",
        help="Withhold figures about fewer people than this (at least 3) "
        "[default: $KNOTWORK_K_MIN or 5].",
        show_default=False,
    ),
]
SamplesOption = Annotated[
    int | None,
    typer.Option(
        "--samples",
        help="Source people for the betweenness estimate [default: exact up to 2000 people].",
        show_default=False,
    ),
]


def _k_min(value: int | None) -> int:
    from knotwork.services.privacy import check_k_min

    return check_k_min(value if value is not None else Settings.from_env().k_min)


def _value(metric: Metric) -> str:
    if metric.value is None:
        return "withheld" if metric.note.startswith("suppressed") else "-"
    if isinstance(metric.value, float):
        return f"{metric.value:.3g}"
    return str(metric.value)


def _render_health(report: dict[str, Any], metrics: list[Metric]) -> None:
    console.print(
        f"{report['people']} people; figures about fewer than {report['k_min']} are withheld",
        highlight=False,
    )
    for metric in metrics:
        console.print(
            f"\n[bold]{metric.name.replace('_', ' ')}[/]: {_value(metric)}", highlight=False
        )
        console.print(f"  {metric.explanation}", highlight=False)
        if metric.note:
            console.print(f"  [yellow]{metric.note}[/]", highlight=False)
        console.print(f"  [dim]{metric.reference}[/]", highlight=False)


def health(
    as_of: AsOfOption = None,
    k_min: KMinOption = None,
    samples: SamplesOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Network health metrics (inequality, periphery, brokers, silos, walls vs work, relay
    depth, truck factor, growth), each with a plain-language explanation."""
    from knotwork.services.health import health as compute_health

    with open_store(db, as_json) as store:
        report = compute_health(
            store, as_of=parse_date(as_of), k_min=_k_min(k_min), samples=samples
        )
        value = report.to_dict()
        emit(as_json, value, lambda: _render_health(value, report.metrics))


def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the HTML file.")] = Path(
        "report.html"
    ),
    as_of: AsOfOption = None,
    k_min: KMinOption = None,
    samples: SamplesOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write one self-contained HTML health report with plots (opens without a network)."""
    from knotwork.services.report import write_report

    with open_store(db, as_json) as store:
        path = write_report(
            store, out, as_of=parse_date(as_of), k_min=_k_min(k_min), samples=samples
        )
        size = path.stat().st_size
        emit(
            as_json,
            {"out": str(path), "bytes": size},
            lambda: console.print(f"wrote {path} ({size / 1e6:.1f} MB)", highlight=False),
        )


def _render_me(value: dict[str, Any]) -> None:
    person = value["person"]
    console.print(f"[bold]{person['name'] or person['key']}[/] <{person['key']}>", highlight=False)
    for name, section in value.items():
        if name in ("person", "as_of"):
            continue
        console.print(f"\n[bold]{name}[/]", highlight=False)
        for key, item in section.items():
            shown = f"{item:.3g}" if isinstance(item, float) else item
            console.print(f"  {key.replace('_', ' ')}: {shown}", highlight=False)


def me(
    alias: Annotated[
        str, typer.Option("--as", metavar="ALIAS", help="Your email, login, name or handle.")
    ],
    as_of: AsOfOption = None,
    k_min: KMinOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Your own metrics: authority rank, ties, core, group, brokerage, areas you know."""
    from knotwork.services.me import me as my_view

    with open_store(db, as_json) as store:
        value = my_view(store, alias, as_of=parse_date(as_of), k_min=_k_min(k_min))
        emit(as_json, value, lambda: _render_me(value))


__all__ = ["health", "me", "report"]
