"""Schemathesis against the OpenAPI document, in process (ASGI), as an admin: no server error,
every response conforms to the document (all checks but the acceptance of schema-valid
requests, which the library may refuse for what they name). A few examples per operation."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from knotwork.api import create_app
from knotwork.config import Settings
from knotwork.graph.sample import sample_records
from knotwork.ingest.base import Batch
from knotwork.store.accounts import add_user
from knotwork.store.engine import Store
from knotwork.store.writer import SourceInfo, write_batch

KEY = b"test-secret-key"


def _app() -> tuple[Any, str]:
    store = Store.open("sqlite://")
    write_batch(store, SourceInfo("git", "git:sample", "sample"), Batch(sample_records(), [], {}))
    token = add_user(store, "root@example.org", "admin", key=KEY)
    MEMBER.append(add_user(store, "ada@example.org", "member", key=KEY))
    return create_app(Settings(database_url="sqlite://"), key=KEY, store=store), token


MEMBER: list[str] = []  # a member who is a person in the graph: the native platform's writer
APP, TOKEN = _app()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)
platform = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP).include(
    tag=["market", "decisions"]
)


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: Any) -> None:
    # a schema-valid request may still name nobody or undo no merge (404/422 from the library)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[positive_data_acceptance]
    )


@pytest.mark.filterwarnings("ignore")
@platform.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_platform_conforms_for_a_member(case: Any) -> None:
    # the admin is no one in the graph: a member who is writes posts, needs, offers, proposals
    case.call_and_validate(
        headers={"Authorization": f"Bearer {MEMBER[0]}"}, excluded_checks=[positive_data_acceptance]
    )
