"""``knotwork ingest ...``: read a source into the store, with a progress bar and a report."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from knotwork.cli.common import DbOption, JsonOption, console, emit, err_console, open_store
from knotwork.config import Settings
from knotwork.ingest.base import IngestReport, Source
from knotwork.store.engine import Store
from knotwork.store.writer import ingest as run_ingest

app = typer.Typer(help="Read a source into the store.", no_args_is_help=True)


class RateColumn(ProgressColumn):
    """Records per second, e.g. ``1,234 commits/s``."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        """The current speed of ``task``."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed or 0:,.0f} {self.unit}/s", style="progress.data.speed")


def run_with_progress(store: Store, source: Source, unit: str, show: bool) -> IngestReport:
    """Ingest ``source`` into ``store``, showing a progress bar on stderr when ``show``."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, disable=not show) as progress:
        task = progress.add_task(f"{source.kind} {source.location}", total=None)

        def update(read: int, total: int | None) -> None:
            progress.update(task, completed=read, total=total)

        return run_ingest(store, source, update)


def print_report(report: IngestReport) -> None:
    """The report as a small table, with rejected records and defects named."""
    table = Table(title=f"ingested {report.source} {report.location}", title_justify="left")
    for column in ("read", "ingested", "rejected", "duplicates", "defects", "seconds"):
        table.add_column(column, justify="right")
    table.add_row(
        *(f"{v:,}" for v in (report.read, report.ingested, report.rejected, report.duplicates)),
        f"{report.defects:,}",
        f"{report.seconds:.1f}",
    )
    console.print(table)
    for rejection in report.rejections:
        console.print(f"[red]rejected[/] {rejection.place}: {rejection.reason}", highlight=False)
    for place in report.defect_places[:20]:
        console.print(f"[yellow]defect[/] {place}", highlight=False)
    if len(report.defect_places) > 20:
        console.print(f"... and {len(report.defect_places) - 20} more defects (see --json)")


@app.command("git")
def ingest_git(
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="A git work tree or bare repository.")
    ],
    all_branches: Annotated[
        bool, typer.Option("--all-branches", help="Read every branch and tag, not only HEAD.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(help="Only commits after this date (any date git understands)."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(help="git processes run in parallel [default: one per core]."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Commits per batch (one transaction each).")
    ] = 1000,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest a git history: people, commits, files, and who authored, changed, reviewed.

    Ingesting again reads only the commits added since; an interrupted ingest resumes.
    """
    from knotwork.ingest.git import GitSource

    settings = Settings.from_env()
    with open_store(db, as_json) as store:
        source = GitSource(
            path,
            all_branches=all_branches,
            since=since,
            jobs=jobs or settings.jobs or None,
            chunk_size=batch_size,
            bot_patterns=settings.bot_patterns or None,
        )
        report = run_with_progress(store, source, "commits", show=not as_json)
    emit(as_json, report.to_dict(), lambda: print_report(report))
    if report.rejected:
        raise typer.Exit(6)


__all__ = ["app", "print_report", "run_with_progress"]
