"""Native posts: written as records of source ``native``, seen by authority and expertise."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from knotwork.errors import InputError, KnotworkError, NotFoundError
from knotwork.graph.sample import sample_store
from knotwork.services.authority import top_items
from knotwork.services.expertise import who_knows
from knotwork.services.native import (
    AuthorisationError,
    cited,
    find_item,
    need,
    node,
    offer,
    post,
    set_state,
    state,
)
from knotwork.store import schema
from knotwork.store.engine import Store

NOW = 1_700_000_000


def test_a_post_is_one_native_record_on_each_backend(store: Store) -> None:
    from knotwork.graph.sample import sample_records
    from knotwork.ingest.base import Batch
    from knotwork.store.writer import SourceInfo, write_batch

    write_batch(store, SourceInfo("test", "test:sample", "x"), Batch(sample_records(), [], {}))
    item = post(store, "bob@example.org", "ice notes", cites=["drivers/net/ice/ice.c"], now=NOW)
    found = node(store, item)
    assert (found["kind"], found["text"]) == ("post", "ice notes")
    with store.connect() as c:
        kinds = sorted(
            c.execute(
                select(schema.links.c.kind).where(
                    (schema.links.c.src == item) | (schema.links.c.dst == item)
                )
            ).scalars()
        )
    assert kinds == ["authored", "cites"]


def test_post_makes_its_author_findable_for_the_cited_file() -> None:
    store = sample_store()
    before = [e.key for e in who_knows(store, "lib/eal/").experts]
    from knotwork.ingest.base import Batch
    from knotwork.model import Alias, AliasKind, Node, Record
    from knotwork.store.writer import SourceInfo, write_batch

    cy = Node.person("cy@example.org", name="Cy")
    write_batch(
        store,
        SourceInfo("test", "test:cy", "x"),
        Batch(
            [
                Record(
                    "test", cy.id, "cy", [cy], [], [Alias(AliasKind.EMAIL, "cy@example.org", cy.id)]
                )
            ],
            [],
            {},
        ),
    )
    assert "cy@example.org" not in before
    item = post(store, "cy@example.org", "EAL memory notes", cites=["lib/eal/eal.c"], now=NOW)
    assert [n["key"] for n in cited(store, item)] == ["lib/eal/eal.c"]
    assert "cy@example.org" in [e.key for e in who_knows(store, "lib/eal/").experts]
    assert item in [i["id"] for i in top_items(store, kind="post")]
    with store.connect() as c:
        sources = set(
            c.execute(select(schema.links.c.source).where(schema.links.c.dst == item)).scalars()
        )
    assert sources == {"native"}


def test_purpose_and_sha_prefix() -> None:
    store = sample_store()
    item = post(
        store, "ada@example.org", "follow-up", cites=["c1c1c1c"], purpose="ice 2.0", now=NOW
    )
    assert sorted(n["kind"] for n in cited(store, item)) == ["commit", "project"]
    assert find_item(store, str(item)) == item


def test_needs_and_offers_have_states_only_their_owner_changes() -> None:
    store = sample_store()
    wanted = need(store, "ada@example.org", "ice hotplug docs", until=NOW + 100, now=NOW)
    given = offer(store, "bob@example.org", "reviews", capacity="2h/week", now=NOW)
    assert node(store, given)["attrs"]["capacity"] == 2.0
    assert state(store, wanted) == "open"
    with pytest.raises(AuthorisationError):
        set_state(store, "bob@example.org", wanted, "fulfilled", now=NOW + 1)
    set_state(store, "ada@example.org", wanted, "fulfilled", now=NOW + 1)
    assert state(store, wanted) == "fulfilled"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda s: post(s, "nobody@example.org", "x", now=NOW), NotFoundError),
        (lambda s: post(s, "ada@example.org", "  ", now=NOW), InputError),
        (lambda s: post(s, "ada@example.org", "x", cites=["no/such"], now=NOW), NotFoundError),
        (lambda s: need(s, "ada@example.org", "x", until=NOW - 1, now=NOW), InputError),
        (lambda s: offer(s, "ada@example.org", "x", capacity="lots", now=NOW), InputError),
    ],
)
def test_bad_input_writes_nothing(call: object, error: type[KnotworkError]) -> None:
    store = sample_store()
    with store.connect() as c:
        before = c.execute(select(schema.links.c.id)).scalars().all()
    with pytest.raises(error):
        call(store)  # type: ignore[operator]
    with store.connect() as c:
        assert c.execute(select(schema.links.c.id)).scalars().all() == before
