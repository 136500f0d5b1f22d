"""Shared fixtures: stores on both backends, each test on a fresh, isolated database.

``store`` (and ``store_url``, ``new_store``) are parametrized over ``sqlite`` (a file in
``tmp_path``) and ``postgres`` (a fresh schema ``kw_<hex>`` on the server named by
``KNOTWORK_TEST_POSTGRES_URL``, selected through libpq's ``options=-csearch_path=...`` and
dropped after the test). PostgreSQL tests carry the ``postgres`` mark: ``-m "not postgres"``
runs without a server. An unreachable server skips them, unless ``CI`` is set or
``KNOTWORK_REQUIRE_POSTGRES=1``, where it fails them.
"""

from __future__ import annotations

import functools
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from apifactory import KEY, Api, ApiFactory, make_api
from knotwork.store.engine import Store, normalize_url
from webfactory import WebApp, require_built, start_web

# keyed hashes in tests never write a secret file into the working folder
os.environ.setdefault("KNOTWORK_SECRET_FILE", os.path.join(tempfile.mkdtemp(), "secret"))

POSTGRES_URL = os.environ.get(
    "KNOTWORK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

UrlFactory = Callable[[], str]
StoreFactory = Callable[[], Store]


def postgres_required() -> bool:
    """Whether an unreachable PostgreSQL server fails the tests instead of skipping them."""
    return bool(os.environ.get("CI")) or os.environ.get("KNOTWORK_REQUIRE_POSTGRES") == "1"


@functools.cache
def _admin_engine() -> Engine:
    return create_engine(
        normalize_url(POSTGRES_URL),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )


@functools.cache
def _postgres_problem() -> str | None:
    """Why the test server cannot be used, or None when it can (checked once per run)."""
    try:
        with _admin_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means: no server for these tests
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    return None


def require_postgres() -> None:
    """Skip (or, in CI, fail) the calling test when the PostgreSQL server is unreachable."""
    problem = _postgres_problem()
    if problem is None:
        return
    message = f"PostgreSQL test server {POSTGRES_URL} is unreachable ({problem})"
    if postgres_required():
        pytest.fail(
            f"{message}; CI or KNOTWORK_REQUIRE_POSTGRES=1 requires it. "
            "Start the server or set KNOTWORK_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    pytest.skip(f"{message}; set KNOTWORK_TEST_POSTGRES_URL to run the postgres tests")


def schema_url(base: str, schema: str) -> str:
    """``base`` with libpq options that put ``schema`` first on the search path."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", autouse=True)
def _dispose_admin_engine() -> Iterator[None]:
    yield
    if _admin_engine.cache_info().currsize:
        _admin_engine().dispose()


@pytest.fixture()
def postgres_urls() -> Iterator[UrlFactory]:
    """A factory of URLs, each to a new empty schema on the test server; dropped afterwards."""
    require_postgres()
    schemas: list[str] = []

    def make() -> str:
        schema = f"kw_{secrets.token_hex(6)}"
        with _admin_engine().connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        return schema_url(POSTGRES_URL, schema)

    yield make
    with _admin_engine().connect() as connection:
        connection.execute(text("SET lock_timeout = '20s'"))
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture()
def sqlite_urls(tmp_path: Path) -> UrlFactory:
    """A factory of URLs, each to a new SQLite file in ``tmp_path``."""
    counter = iter(range(1_000_000))

    def make() -> str:
        return f"sqlite:///{tmp_path}/k{next(counter)}.db"

    return make


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres``: the backend the test runs on."""
    return str(request.param)


@pytest.fixture()
def store_urls(backend: str, request: pytest.FixtureRequest) -> UrlFactory:
    """A factory of URLs of new, empty stores on the test's backend."""
    factory: UrlFactory = request.getfixturevalue(f"{backend}_urls")
    return factory


@pytest.fixture()
def new_store(store_urls: UrlFactory) -> Iterator[StoreFactory]:
    """A factory of new, opened stores on the test's backend; all closed afterwards."""
    opened: list[Store] = []

    def make() -> Store:
        store = Store.open(store_urls())
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture()
def store_url(store_urls: UrlFactory) -> str:
    """The URL of one new, empty (not yet opened) store on the test's backend."""
    return store_urls()


@pytest.fixture()
def store(store_url: str) -> Iterator[Store]:
    """An opened store with the newest schema and no data, on the test's backend."""
    opened = Store.open(store_url)
    yield opened
    opened.close()


# -- the API over a store (tests/api) ---------------------------------------------------------


@pytest.fixture()
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's tombstone check reads the same key as the app."""
    monkeypatch.setenv("KNOTWORK_SECRET_KEY", KEY.decode())


@pytest.fixture()
def new_api(new_store: Callable[[], Store], _secret: None) -> Iterator[ApiFactory]:
    """A factory of fresh APIs on the test's backend."""

    def make(**options: object) -> Api:
        return make_api(new_store(), **options)

    yield make


@pytest.fixture()
def api(new_api: ApiFactory) -> Api:
    """One fresh API on the test's backend."""
    return new_api()


# -- the web app in a real browser (tests/web; see tests/webfactory.py) -----------------------

CHROMIUM = os.environ.get("KNOTWORK_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, headless. Missing: the tests fail under CI or
    ``KNOTWORK_REQUIRE_POSTGRES=1`` (``make test``), and are skipped elsewhere."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (scripts/ensure-chromium.sh installs it)"
        if postgres_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """The web app served over real-looking data, with users (tests/webfactory.py)."""
    require_built()
    app = start_web(tmp_path_factory.mktemp("web"))
    yield app
    app.close()


@pytest.fixture()
def page_for(browser: Any, web: WebApp) -> Iterator[Callable[[str | None], Any]]:
    """A factory of Playwright pages, each in a fresh context, logged in as a user of ``web``
    (None: logged out); closed after the test."""
    contexts: list[Any] = []

    def make(who: str | None) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        if who is not None:
            web.login(page, who)
        return page

    yield make
    for context in contexts:
        context.close()
