"""What every command shares: the ``--db`` and ``--json`` options, output, and error mapping.

Errors from the :class:`~knotwork.errors.KnotworkError` tree become exit codes here, and only
here: the library below never exits.

>>> to_json({"a": 1})
'{\\n  "a": 1\\n}'
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from knotwork.config import Settings
from knotwork.errors import KnotworkError
from knotwork.store.engine import Store

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="Store URL: sqlite:///path or postgresql://... "
        "[default: $KNOTWORK_DATABASE_URL or sqlite:///knotwork.db]",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

console = Console()
err_console = Console(stderr=True)


def to_json(value: Any) -> str:
    """Indented JSON text for ``--json`` output."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def when(seconds: int | None) -> str:
    """A Unix time as an ISO date-time in UTC, or ``-``.

    >>> when(0)
    '1970-01-01 00:00:00Z'
    """
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@contextmanager
def open_store(db: str | None, as_json: bool) -> Iterator[Store]:
    """Open the store named by ``--db`` or the settings; map Knotwork errors to exit codes."""
    with handle_errors(as_json):
        store = Store.open(db or Settings.from_env().database_url)
        try:
            yield store
        finally:
            store.close()


@contextmanager
def handle_errors(as_json: bool) -> Iterator[None]:
    """Print a :class:`KnotworkError` (as JSON with ``--json``) and exit with its code."""
    try:
        yield
    except KnotworkError as error:
        if as_json:
            print(to_json(error.to_dict()), file=sys.stdout)
        err_console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(error.exit_code) from None


def emit(as_json: bool, value: Any, render: Callable[[], None]) -> None:
    """Print ``value`` as JSON, or call ``render`` for the human-readable form."""
    if as_json:
        print(to_json(value))
    else:
        render()


__all__ = [
    "DbOption",
    "JsonOption",
    "console",
    "emit",
    "err_console",
    "handle_errors",
    "open_store",
    "to_json",
    "when",
]
