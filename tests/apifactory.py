"""An API over the sample graph, with four users and their tokens (fixtures in conftest.py).

``ada`` and ``bob`` are members (and people in the graph), ``carol`` an analyst, ``root`` an
admin; ``dave`` is a spare member that tests may revoke.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi.testclient import TestClient

from knotwork.api import create_app
from knotwork.config import Settings
from knotwork.graph.sample import sample_records
from knotwork.ingest.base import Batch
from knotwork.store.accounts import add_user
from knotwork.store.engine import Store
from knotwork.store.identity import resolve
from knotwork.store.writer import SourceInfo, write_batch

KEY = b"test-secret-key"
USERS = {
    "ada": ("ada@example.org", "member"),
    "bob": ("bob@example.org", "member"),
    "carol": ("carol@example.org", "analyst"),
    "root": ("root@example.org", "admin"),
    "dave": ("dave@example.org", "member"),
}


@dataclass
class Api:
    """A client, the store behind it, and each user's token and person id."""

    client: TestClient
    store: Store
    tokens: dict[str, str]
    ids: dict[str, int]

    def as_(self, who: str | None) -> dict[str, str]:
        """Headers that authenticate as ``who`` (None: no header)."""
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}


def make_api(store: Store, **app_options: object) -> Api:
    """The API over ``store`` after writing the sample graph and adding the users."""
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch(sample_records(), [], {}))
    tokens = {who: add_user(store, alias, role, key=KEY) for who, (alias, role) in USERS.items()}
    ids = {who: resolve(store, USERS[who][0]) for who in ("ada", "bob")}
    app = create_app(Settings(database_url=store.url), key=KEY, store=store, **app_options)  # type: ignore[arg-type]
    return Api(TestClient(app, raise_server_exceptions=False), store, tokens, ids)


ApiFactory = Callable[..., Api]
