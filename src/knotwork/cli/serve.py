"""``knotwork serve``: the REST API (and its OpenAPI document) over one store, via uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from knotwork.cli.common import DbOption, handle_errors
from knotwork.config import Settings


def app_from_env() -> object:
    """The app for uvicorn's factory mode (workers): settings from the environment."""
    from knotwork.api import create_app

    return create_app(Settings.from_env())


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (use PostgreSQL for >1).")] = 1,
    db: DbOption = None,
) -> None:
    """Serve the API under /api/v1 (OpenAPI at /api/v1/openapi.json, docs at /api/docs)."""
    import uvicorn

    with handle_errors(False):
        if db:
            os.environ["KNOTWORK_DATABASE_URL"] = db
        settings = Settings.from_env()
        if workers > 1 and settings.database_url.startswith("sqlite"):
            typer.echo("note: several workers on SQLite serialise writes; prefer PostgreSQL")
        uvicorn.run(
            "knotwork.cli.serve:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            # requests still running after this are dropped, so that shutdown always reaches
            # the app's lifespan end, which cancels the ingest jobs still running
            timeout_graceful_shutdown=10,
        )
