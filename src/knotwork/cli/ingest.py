"""``knotwork ingest ...``: read a source into the store, with a progress bar and a report."""

from __future__ import annotations

from collections.abc import Callable
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
        console.print(
            f"[red]rejected[/] {rejection.place}: {rejection.reason}",
            highlight=False,
            soft_wrap=True,  # a place is copied from the terminal: never break it
        )
    for place in report.defect_places[:20]:
        console.print(f"[yellow]defect[/] {place}", highlight=False, soft_wrap=True)
    if len(report.defect_places) > 20:
        console.print(f"... and {len(report.defect_places) - 20} more defects (see --json)")


def ingest_source(db: str | None, as_json: bool, make: Callable[[], Source], unit: str) -> None:
    """Open the store, ingest the source ``make`` builds, print the report; every ``ingest``
    command ends here. Exits 6 when records were rejected (the valid ones are stored)."""
    with open_store(db, as_json) as store:
        report = run_with_progress(store, make(), unit, show=not as_json)
    emit(as_json, report.to_dict(), lambda: print_report(report))
    if report.rejected:
        raise typer.Exit(6)


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
    ] = 2500,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest a git history: people, commits, files, and who authored, changed, reviewed.

    Ingesting again reads only the commits added since; an interrupted ingest resumes.
    """
    from knotwork.ingest.git import GitSource

    settings = Settings.from_env()
    ingest_source(
        db,
        as_json,
        lambda: GitSource(
            path,
            all_branches=all_branches,
            since=since,
            jobs=jobs or settings.jobs or None,
            chunk_size=batch_size,
            bot_patterns=settings.bot_patterns or None,
        ),
        "commits",
    )


@app.command("mbox")
def ingest_mbox(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE", help="mbox/mboxrd files, gzipped or not, or folders of them."
        ),
    ],
    list_name: Annotated[
        str | None,
        typer.Option("--list", help="List of messages without List-Id [default: file name]."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Messages per batch (one transaction each).")
    ] = 2000,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest mail archives: people, messages, threads, lists, replies, mentioned files and mails.

    Ingesting again skips files already read and reads only the mail appended since.
    """
    from knotwork.ingest.mbox import MboxSource

    settings = Settings.from_env()
    ingest_source(
        db,
        as_json,
        lambda: MboxSource(
            files,
            list_name=list_name,
            batch_size=batch_size,
            bot_patterns=settings.bot_patterns or None,
        ),
        "messages",
    )


@app.command("slack")
def ingest_slack(
    export: Annotated[
        str, typer.Argument(metavar="EXPORT", help="A Slack workspace export: .zip or folder.")
    ],
    batch_size: Annotated[
        int, typer.Option(min=1, help="Messages per batch (one transaction each).")
    ] = 5000,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest a Slack export: users, channels and members, messages, threads, mentions, reactions.

    Ingesting again (or a later export of the same workspace) reads only the days not yet read.
    """
    from knotwork.ingest.slack import SlackSource

    ingest_source(db, as_json, lambda: SlackSource(export, batch_size=batch_size), "messages")


@app.command("mattermost")
def ingest_mattermost(
    export: Annotated[
        str,
        typer.Argument(metavar="FILE", help="A Mattermost bulk export: .jsonl, or a .zip of one."),
    ],
    site: Annotated[
        str, typer.Option(help="Name of the server, the same for all its exports.")
    ] = "default",
    batch_size: Annotated[
        int, typer.Option(min=1, help="Lines per batch (one transaction each).")
    ] = 5000,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest a Mattermost bulk export: users, teams, channels, posts, replies, reactions.

    An interrupted ingest of the same file resumes at the line where it stopped.
    """
    from knotwork.ingest.mattermost import MattermostSource

    ingest_source(
        db, as_json, lambda: MattermostSource(export, site=site, batch_size=batch_size), "lines"
    )


@app.command("perceval")
def ingest_perceval(
    items: Annotated[
        str,
        typer.Argument(metavar="FILE", help="JSON lines written by `perceval ... --json-line`."),
    ],
    batch_size: Annotated[
        int, typer.Option(min=1, help="Items per batch (one transaction each).")
    ] = 2000,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest GrimoireLab Perceval items: GitHub and GitLab issues and pull/merge requests
    with reviews and comments, Gerrit reviews, Discourse topics, mailing-list messages
    (mbox, Pipermail, HyperKitty, Groups.io, Gmane, NNTP) and git commits.

    Items of other backends or categories are reported as rejected, with the line. An
    interrupted ingest of the same file resumes at the line where it stopped. Accounts that
    match ``KNOTWORK_BOT_PATTERNS`` (or the default bot patterns) are flagged as bots.
    """
    from knotwork.ingest.perceval import PercevalSource

    patterns = Settings.from_env().bot_patterns or None
    ingest_source(
        db,
        as_json,
        lambda: PercevalSource(items, batch_size=batch_size, bot_patterns=patterns),
        "items",
    )


@app.command("table")
def ingest_table(
    path: Annotated[
        str, typer.Argument(metavar="FILE", help="A CSV, JSON lines, JSON array or matrix file.")
    ],
    mapping: Annotated[
        str,
        typer.Option("--map", metavar="TOML", help="Mapping of columns to nodes, links and times."),
    ],
    batch_size: Annotated[
        int, typer.Option(min=1, help="Rows per batch (one transaction each).")
    ] = 5000,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest a table of interactions under a mapping (see docs/sources.md).

    Each row gives the nodes and links the mapping names; rows that cannot be read or mapped
    are reported with their line. An unchanged file is not read again.
    """
    from knotwork.ingest.tabular import TableSource

    ingest_source(db, as_json, lambda: TableSource(path, mapping, batch_size=batch_size), "rows")


@app.command("orgchart")
def ingest_orgchart(
    path: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="A CSV: person, name, email, unit, manager, title, parent."
        ),
    ],
    namespace: Annotated[
        str, typer.Option(help="Keys the people without an email, and the units.")
    ] = "orgchart",
    column: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ROLE=HEADER",
            help="Read a role from another column, e.g. --column person=EmployeeId.",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest an org chart: units, who is a member of which, who reports to whom, titles."""
    from knotwork.ingest.orgchart import OrgChartSource

    columns = {}
    for pair in column or []:
        role, sep, header = pair.partition("=")
        if not sep or not role.strip() or not header.strip():
            raise typer.BadParameter(f"{pair!r} is not ROLE=HEADER", param_hint="--column")
        columns[role.strip()] = header.strip()
    ingest_source(
        db, as_json, lambda: OrgChartSource(path, namespace=namespace, columns=columns), "people"
    )


__all__ = ["app", "ingest_source", "print_report", "run_with_progress"]
