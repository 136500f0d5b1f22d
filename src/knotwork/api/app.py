"""The app factory: one FastAPI application over one store.

>>> from fastapi.testclient import TestClient
>>> from knotwork.config import Settings
>>> client = TestClient(create_app(Settings(database_url="sqlite://"), key=b"k"))
>>> client.get("/health").json()
{'status': 'ok'}
>>> client.get("/api/v1/me").status_code
401
"""

from __future__ import annotations

from fastapi import FastAPI

from knotwork.api import (
    aggregates,
    ask,
    decisions,
    errors,
    graph,
    identities,
    jobs,
    market,
    me,
    people,
    users,
)
from knotwork.api.limits import BodyAndTimeLimit, Limits, RateLimit
from knotwork.api.models import Health
from knotwork.config import Settings
from knotwork.services.privacy_store import StoredLedgers
from knotwork.store.accounts import secret_key
from knotwork.store.engine import Store


def create_app(
    settings: Settings,
    *,
    key: bytes | None = None,
    limits: Limits | None = None,
    store: Store | None = None,
) -> FastAPI:
    """The API over the store of ``settings`` (or ``store``); ``key`` is the keyed-hash secret
    (default :func:`knotwork.store.accounts.secret_key`)."""
    limits = limits or Limits()
    app = FastAPI(
        title="Knotwork",
        summary="The live social graph of work.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        responses=errors.ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.store = store or Store.open(settings.database_url)
    app.state.key = secret_key() if key is None else key
    app.state.limits = limits
    app.state.rate = RateLimit(limits.per_minute)
    app.state.failed = RateLimit(limits.failed_auth_per_minute)
    # the sets aggregates were released about, in the store: shared by every worker
    app.state.ledgers = StoredLedgers(app.state.store, app.state.key, settings.k_min)
    jobs.install(app)  # ingest jobs in their own processes, cancelled at shutdown
    errors.install(app)
    app.add_middleware(BodyAndTimeLimit, max_body=limits.max_body, timeout=limits.timeout)

    @app.get("/health", response_model=Health, tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: answers without a token."""
        return {"status": "ok"}

    for module in (ask, people, identities, users, me, aggregates, jobs, market, decisions, graph):
        app.include_router(module.router)
    from knotwork.web.app import mount_web  # the pages import the API's auth: import late

    mount_web(app)
    return app


__all__ = ["create_app"]
