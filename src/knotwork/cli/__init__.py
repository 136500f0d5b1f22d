"""The ``knotwork`` command line: thin commands over the library, one module per group.

>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["--help"])
>>> result.exit_code, "ingest" in result.output
(0, True)
"""

from __future__ import annotations

import typer

from knotwork.cli import ask, db, identities, ingest, inspect

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
app.command()(inspect.stats)
app.command()(inspect.person)
app.command()(inspect.digest)
app.command(name="who-knows")(ask.who_knows)
app.command()(ask.top)
app.command()(ask.explain)


def main() -> None:
    """Entry point of the ``knotwork`` script."""
    app()


__all__ = ["app", "main"]
