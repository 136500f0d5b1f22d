"""The web app in a real browser: a live server over real-looking data, and logged-in pages.

Harness API (fixtures in ``tests/conftest.py``; mark browser tests ``@pytest.mark.browser``):

- ``web`` (session-scoped :class:`WebApp`): ``knotwork.api.create_app`` served by uvicorn in
  a background thread on a free port, over a SQLite store holding three teams' eighteen months
  of commits (:func:`groupsfactory.work_records`: 18 people with real-looking names, groups
  *net*, *mem*, *docs*), one person named ``<script>...</script>`` and one with a bidi-control,
  right-to-left and emoji name (:data:`HOSTILE`), and four users (:data:`USERS`):
  ``admin`` (no person), ``member`` and ``member2`` (people of the graph), ``analyst``.
  ``web.url`` is the base URL, ``web.store`` the store (write more data through it or the
  API), ``web.tokens[who]`` the tokens, ``web.people[who]`` the person id of a user,
  ``web.person(email)`` any person's id, ``web.api(who)`` an ``httpx.Client`` authenticated
  as ``who``. The server is shared by the whole session: tests that write should create
  their own rows (and not count on being alone).
- ``browser`` (session-scoped Playwright ``Browser``): Debian's Chromium, headless.
- ``page_for`` (a factory, per test): ``page_for("member")`` is a new Playwright ``Page`` in a
  fresh context, logged in as that user through the ``/login`` form (``None``: logged out);
  contexts are closed after the test. ``web.login(page, who)`` logs an existing page in.
- ``web.pwned(page)``: whether any injected script ran (the hostile names set
  ``window.__pwned``); assert it is False after rendering user-provided text.
- :func:`screenshot`: saves ``docs/screenshots/NAME.png`` only when ``KNOTWORK_SCREENSHOTS=1``.

The browser's scripts come from ``src/knotwork/web/static/dist/`` built by ``make`` (the web
stamp); :func:`require_built` fails with that hint when they are missing.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from groupsfactory import PEOPLE, work_records
from knotwork.api import create_app
from knotwork.api.auth import SESSION_COOKIE
from knotwork.config import Settings
from knotwork.graph.sample import commit_record
from knotwork.ingest.base import Batch
from knotwork.model import NodeKind, Record
from knotwork.store.accounts import add_user, secret_key
from knotwork.store.engine import Store
from knotwork.store.identity import resolve
from knotwork.store.writer import SourceInfo, write_batch
from knotwork.web.templating import STATIC

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"

#: Real-looking names of the eighteen people of :mod:`groupsfactory` (by email).
NAMES = dict(
    zip(
        [email for team in PEOPLE.values() for email in team],
        [
            "Maria Lindqvist", "Tomasz Kowalczyk", "Aiko Tanaka", "Jean-Luc Moreau",
            "Priya Raman", "Olusegun Adeyemi", "Hannah Becker", "Diego Fernández",
            "Chen Wei", "Fatima Zahra", "Lars Nilsson", "Ana Souza",
            "Kofi Mensah", "Ingrid Hansen", "Ravi Shankar", "Yuki Sato",
            "Sofia Rossi", "Mateus Lima",
        ],
        strict=True,
    )
)  # fmt: skip
#: People whose names must be shown as text, never run or reordered: a ``<script>`` name
#: and a right-to-left name with a bidi override and an emoji. They author commits in
#: ``drivers/net/vhost/``, reviewed by the *net* team.
HOSTILE = {
    "mallory@example.org": "<script>window.__pwned=1</script>Mallory",
    "dana@example.org": "\u202edana\u202c דנה לוי 🚀",
}
#: A commit message that would run script if it were inserted as HTML.
HOSTILE_MESSAGE = 'net: fix <img src=x onerror="window.__pwned=1"> link queue handling'
#: The users: (alias, role); members and the analyst are people of the graph.
USERS = {
    "admin": ("root@example.org", "admin"),
    "member": ("net0@example.org", "member"),
    "member2": ("mem0@example.org", "member"),
    "analyst": ("docs0@example.org", "analyst"),
}


def require_built() -> None:
    """Fail with a hint when the islands of script were not built (``make`` builds them)."""
    if not (STATIC / "dist").is_dir():
        raise AssertionError(
            f"{STATIC / 'dist'} is missing: run `make test` (or `cd frontend && npm ci && "
            "npm run build`) to build the web app's scripts"
        )


def _named(record: Record) -> Record:
    """``record`` with real-looking names on its people."""
    nodes = [
        dataclasses.replace(n, name=NAMES.get(n.key, HOSTILE.get(n.key, n.name)))
        if n.kind == NodeKind.PERSON
        else n
        for n in record.nodes
    ]
    return dataclasses.replace(record, nodes=nodes)


def web_records() -> list[Record]:
    """The records of the web tests' store (see the module docstring)."""
    records = [_named(r) for r in work_records()]
    start = records[-1].nodes[0].time or 0
    for n, (author, reviewer) in enumerate(
        [("mallory@example.org", "net1@example.org"), ("dana@example.org", "net2@example.org")] * 3
    ):
        message = HOSTILE_MESSAGE if n == 0 else f"net: tune offload queue {n}"
        record = commit_record(
            f"{0xBAD0 + n:040x}",
            author,
            start - n * 86_400,
            [f"drivers/net/vhost/queue_{n % 3}.c"],
            message,
            reviews=[reviewer],
        )
        records.append(_named(record))
    return records


def free_socket() -> socket.socket:
    """A listening socket on a free port of 127.0.0.1 (handed to uvicorn: no race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@dataclass
class Server:
    """A uvicorn server running ``app`` in a background thread."""

    app: Any
    url: str = ""
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Server:
        sock = free_socket()
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="web"
        )
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the web server did not start on port {port}")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


@dataclass
class WebApp:
    """A live server over a store with users (see the module docstring)."""

    url: str
    store: Store
    tokens: dict[str, str]
    people: dict[str, int]
    server: Server
    _clients: list[httpx.Client] = field(default_factory=list)

    def person(self, email: str) -> int:
        """The person id of ``email`` in the store."""
        return int(resolve(self.store, email))

    def api(self, who: str | None) -> httpx.Client:
        """An HTTP client of the server, with ``who``'s bearer token (None: none)."""
        headers = {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self._clients.append(client)
        return client

    def login(self, page: Any, who: str) -> None:
        """Log ``page`` in as ``who`` through the ``/login`` form."""
        page.goto(f"{self.url}/login")
        page.fill("#token", self.tokens[who])
        with page.expect_navigation():
            page.click("form[action='/login'] button[type=submit]")
        cookies = {c["name"] for c in page.context.cookies()}
        assert SESSION_COOKIE in cookies, f"login as {who} failed at {page.url}"

    @staticmethod
    def pwned(page: Any) -> bool:
        """Whether an injected script ran on ``page``."""
        return bool(page.evaluate("() => window.__pwned === 1"))

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self.server.stop()
        self.store.close()


def start_web(folder: Path | None = None) -> WebApp:
    """Write :func:`web_records` and the :data:`USERS` into a new SQLite store in ``folder``
    and serve the app over it."""
    folder = folder or Path(tempfile.mkdtemp(prefix="knotwork-web-"))
    store = Store.open(f"sqlite:///{folder}/web.db")
    write_batch(store, SourceInfo("git", "git:web", "web"), Batch(web_records(), [], {}))
    key = secret_key()
    tokens = {who: add_user(store, alias, role, key=key) for who, (alias, role) in USERS.items()}
    people = {who: int(resolve(store, USERS[who][0])) for who in USERS if who != "admin"}
    app = create_app(Settings(database_url=store.url), key=key, store=store)
    server = Server(app).start()
    return WebApp(server.url, store, tokens, people, server)


def screenshot(page: Any, name: str) -> Path | None:
    """Save ``page`` as ``docs/screenshots/NAME.png`` when ``KNOTWORK_SCREENSHOTS=1``."""
    if os.environ.get("KNOTWORK_SCREENSHOTS") != "1":
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


__all__ = [
    "HOSTILE",
    "HOSTILE_MESSAGE",
    "NAMES",
    "USERS",
    "WebApp",
    "require_built",
    "screenshot",
    "start_web",
    "web_records",
]
