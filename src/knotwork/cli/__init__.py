"""The ``knotwork`` command line: thin commands over the library, one module per group.

>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["--help"])
>>> result.exit_code, "ingest" in result.output
(0, True)
"""

from __future__ import annotations

import typer

from knotwork.cli import (
    ask,
    compute,
    db,
    decide,
    identities,
    ingest,
    inspect,
    native,
    privacy,
    scores,
    serve,
    users,
)
from knotwork.cli import groups as groups_cli
from knotwork.cli import health as health_cli

app = typer.Typer(
    name="knotwork",
    help="Knotwork: the live social graph of work.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(ingest.app, name="ingest")
app.add_typer(db.app, name="db")
app.add_typer(identities.app, name="identities")
app.add_typer(users.app, name="users")
app.add_typer(compute.app, name="compute")
app.add_typer(scores.app, name="import")
app.command()(serve.serve)
app.command()(privacy.erase)
app.command()(privacy.export)
app.command("opt-out")(privacy.opt_out)
app.command()(inspect.stats)
app.command()(inspect.person)
app.command()(inspect.digest)
app.command(name="who-knows")(ask.who_knows)
app.command()(ask.top)
app.command()(ask.explain)
app.add_typer(groups_cli.app, name="groups")
app.command()(groups_cli.team)
app.command()(health_cli.health)
app.command()(health_cli.report)
app.command()(health_cli.me)
app.command()(native.post)
app.command()(native.need)
app.command()(native.offer)
app.command()(native.commit)
app.command()(native.close)
app.command()(native.match)
app.command()(decide.propose)
app.command()(decide.affected)
app.command()(decide.respond)
app.command()(decide.decisions)
app.command()(decide.decision)
app.command()(decide.participation)
app.command()(decide.questions)


def main() -> None:
    """Entry point of the ``knotwork`` script."""
    app()


__all__ = ["app", "main"]
