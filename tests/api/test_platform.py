"""The native platform through the API, end to end, on Krackhardt's 21 managers (departments,
documents written in each department and reviewed from outside; ``tests/krackhardt_org.py``):
posts, needs and offers with matches, proposals with the people they affect and responses, and
participation, on SQLite and PostgreSQL. The actor of every write is the caller's own person."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apifactory import KEY
from knotwork.api import create_app
from knotwork.config import Settings
from knotwork.services.decisions import propose
from knotwork.store.accounts import add_user
from knotwork.store.engine import Store
from knotwork.store.erase import opt_out
from krackhardt_org import Org, build

MONTH = 30 * 86_400


@dataclass
class OrgApi:
    """The client, the store, the organisation and a token per user (managers by name, plus
    ``analyst`` and ``admin`` who are no one in the graph)."""

    client: TestClient
    store: Store
    org: Org
    tokens: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def id(self, who: str) -> int:
        return self.org.people[who].id

    def post(self, who: str, path: str, body: dict[str, Any]) -> Any:
        return self.client.post("/api/v1" + path, json=body, headers=self.as_(who))

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get("/api/v1" + path, params=params, headers=self.as_(who))


@pytest.fixture()
def org_api(new_store: Callable[[], Store], _secret: None) -> OrgApi:
    store = new_store()
    org = build(store)
    tokens = {
        name: add_user(store, person.key, "member", key=KEY) for name, person in org.people.items()
    }
    tokens["analyst"] = add_user(store, "analyst@hightech.example", "analyst", key=KEY)
    tokens["admin"] = add_user(store, "admin@hightech.example", "admin", key=KEY)
    app = create_app(Settings(database_url=store.url), key=KEY, store=store)
    return OrgApi(TestClient(app, raise_server_exceptions=False), store, org, tokens)


def _error(response: Any) -> dict[str, Any]:
    detail: dict[str, Any] = response.json()["error"]
    assert detail["status"] == response.status_code
    return detail


def test_a_member_posts_a_need_and_gets_a_match_from_the_department_that_knows(
    org_api: OrgApi,
) -> None:
    org = org_api.org
    asker = org.members(1)[0]
    made = org_api.post(asker, "/needs", {"text": "assembly line quality inspection checklist"})
    assert made.status_code == 200, made.text
    need = made.json()
    assert (need["kind"], need["owner"], need["state"]) == ("need", org_api.id(asker), "open")
    matches = org_api.get(asker, f"/needs/{need['id']}/matches", limit=5).json()["items"]
    # department 2 (and its two outside reviewers) write about assembly lines and quality
    top = {m["person"] for m in matches[:3]}
    assert top <= {org_api.id(p) for p in org.members(2) + org.outsiders}, matches
    assert org_api.id(asker) not in {m["person"] for m in matches}
    assert matches[0]["reasons"] and matches[0]["parts"]["text"] > 0
    # the need is listed, and an offer about it finds it
    assert need["id"] in {n["id"] for n in org_api.get(asker, "/needs").json()["items"]}
    helper = org.members(2)[0]
    offered = org_api.post(
        helper, "/offers", {"text": "quality inspection of assembly lines", "capacity": "3h/week"}
    ).json()
    assert (offered["owner"], offered["remaining"]) == (org_api.id(helper), 3.0)
    found = org_api.get(helper, f"/offers/{offered['id']}/matches").json()["items"]
    assert found[0]["need"] == need["id"] and found[0]["owner"] == org_api.id(asker)
    # the helper commits hours of the offer; capacity is never oversubscribed
    given = org_api.post(
        helper, f"/offers/{offered['id']}/commitments", {"need": need["id"], "hours": 2}
    )
    assert given.json()["remaining"] == 1.0
    over = org_api.post(
        helper, f"/offers/{offered['id']}/commitments", {"need": need["id"], "hours": 2}
    )
    assert over.status_code == 422 and "1 hours left" in _error(over)["reason"]
    stolen = org_api.post(
        asker, f"/offers/{offered['id']}/commitments", {"need": need["id"], "hours": 1}
    )
    assert stolen.status_code == 403 and _error(stolen)["error"] == "AuthorisationError"
    # only the owner closes the need; a closed need is no longer listed
    assert (
        org_api.post(helper, f"/needs/{need['id']}/close", {"state": "fulfilled"}).status_code
        == 403
    )
    closed = org_api.post(asker, f"/needs/{need['id']}/close", {"state": "fulfilled"})
    assert closed.json() == {"id": need["id"], "kind": "need", "state": "fulfilled"}
    assert need["id"] not in {n["id"] for n in org_api.get(asker, "/needs").json()["items"]}
    # an offer's id is no need
    assert (
        org_api.post(helper, f"/needs/{offered['id']}/close", {"state": "withdrawn"}).status_code
        == 404
    )


def test_a_post_is_written_as_the_caller_and_cites_what_it_builds_on(org_api: OrgApi) -> None:
    org = org_api.org
    author = org.members(4)[0]
    doc = org.documents[4][0].key
    made = org_api.post(author, "/posts", {"text": "Prototype test notes", "cites": [doc]})
    assert made.status_code == 200, made.text
    listed = org_api.get(org.members(0)[0], "/posts").json()["items"]
    assert [(p["id"], p["owner"]) for p in listed] == [(made.json()["id"], org_api.id(author))]
    # the body cannot name another author, and an unknown citation writes nothing
    other = org_api.post(author, "/posts", {"text": "x", "author": org.members(3)[0]})
    assert other.status_code == 422 and _error(other)["place"] == "body.author"
    missing = org_api.post(author, "/posts", {"text": "x", "cites": ["no/such/file.c"]})
    assert missing.status_code == 404
    assert org_api.get(author, "/posts").json()["total"] == 1
    # an account that is no one in the graph cannot write
    nobody = org_api.post("analyst", "/posts", {"text": "hello"})
    assert nobody.status_code == 403 and "not linked to a person" in _error(nobody)["reason"]


def test_a_member_responds_to_a_proposal_only_as_themself(org_api: OrgApi) -> None:
    org = org_api.org
    author = org.members(0)[0]
    closes = int(time.time()) + MONTH
    body = {"text": "Two shifts", "affects": [d.key for d in org.documents[2]], "closes": closes}
    made = org_api.post(author, "/proposals", body)
    assert made.status_code == 200, made.text
    proposal = made.json()
    assert (proposal["author"], proposal["status"], proposal["responded"]) == (
        org_api.id(author),
        "open",
        0,
    )
    reached = org_api.get(author, f"/proposals/{proposal['id']}/affected", limit=100).json()
    expected = {org_api.id(p) for p in org.members(2) + org.outsiders}
    assert {a["person"] for a in reached["items"]} == expected
    assert all(a["evidence"] for a in reached["items"])
    voter, other = org.members(2)[:2]
    answered = org_api.post(voter, f"/proposals/{proposal['id']}/responses", {"choice": "agree"})
    assert answered.status_code == 200, answered.text
    assert (answered.json()["responded"], answered.json()["turnout"]) == (1, round(1 / 10, 4))
    # not for someone else: by the library's hook (403), nor by naming them in the body (422)
    for_other = org_api.post(
        voter,
        f"/proposals/{proposal['id']}/responses",
        {"choice": "block", "on_behalf_of": org.people[other].key},
    )
    assert for_other.status_code == 403 and _error(for_other)["error"] == "AuthorisationError"
    named = org_api.post(
        voter, f"/proposals/{proposal['id']}/responses", {"choice": "block", "person": other}
    )
    assert named.status_code == 422
    again = org_api.post(voter, f"/proposals/{proposal['id']}/responses", {"choice": "agree"})
    assert again.status_code == 422 and "duplicate" in _error(again)["reason"]
    now = org_api.get(other, f"/proposals/{proposal['id']}").json()
    assert now["responded"] == 1 and now["standing"]["result"] == "passed"
    assert org_api.id(other) in now["reminders"] and org_api.id(voter) not in now["reminders"]
    listed = org_api.get(other, "/proposals", open=True).json()["items"]
    assert [p["id"] for p in listed] == [proposal["id"]]


def test_a_response_after_the_close_is_a_clear_error(org_api: OrgApi) -> None:
    org = org_api.org
    past = int(time.time()) - MONTH
    proposal = propose(
        org_api.store,
        org.people[org.members(0)[0]].key,
        "Old plan",
        affects=["group:department 2"],
        closes=past + 3600,
        now=past,
    )
    late = org_api.post(org.members(2)[0], f"/proposals/{proposal}/responses", {"choice": "agree"})
    assert late.status_code == 422
    assert _error(late)["reason"] == "the proposal is closed"
    closed = org_api.get(org.members(2)[0], f"/proposals/{proposal}").json()
    assert (closed["status"], closed["responded"], closed["result"]) == ("closed", 0, "not passed")
    assert org_api.get(org.members(2)[0], "/proposals/12345").status_code == 404
    bad = org_api.post(
        org.members(0)[0],
        "/proposals",
        {"text": "x", "affects": ["group:department 2"], "closes": past},
    )
    assert bad.status_code == 422 and "past" in _error(bad)["reason"]


def test_participation_is_k_anonymous_and_each_member_sees_their_own(org_api: OrgApi) -> None:
    org = org_api.org
    closes = int(time.time()) + MONTH
    author = org.members(0)[0]
    made = org_api.post(
        author,
        "/proposals",
        {"text": "Night shift", "affects": ["group:department 2"], "closes": closes},
    ).json()
    voters = org.members(2)[:3]
    for name in voters:
        answer = org_api.post(name, f"/proposals/{made['id']}/responses", {"choice": "agree"})
        assert answer.status_code == 200, answer.text
    analyst = org_api.get("analyst", "/participation").json()
    assert "people" not in analyst and analyst["k_min"] == 5
    groups = {g["key"]: g for g in analyst["groups"]}
    assert groups["department 2"]["value"] == {"affected": 8, "responded": 3, "index": 0.375}
    small = [g for g in analyst["groups"] if g["people"] < 5]
    assert small and all(g["value"] is None and g["note"] for g in small)
    assert org_api.get(voters[0], "/participation").status_code == 403
    admin = org_api.get("admin", "/participation").json()
    indexes = {p["person"]: p["index"] for p in admin["people"]}
    # the group's members and the two outsiders who work on its documents
    assert set(indexes) == {org_api.id(p) for p in org.members(2) + org.outsiders}
    assert sum(indexes.values()) == 3.0
    # a member sees their own index, and the three questions, in /me
    mine = org_api.get(voters[0], "/me").json()
    assert mine["participation"] == {"affected": 1, "responded": 1, "index": 1.0}
    assert set(mine["questions"]) == {"need_to_know", "owe", "talk_to"}
    assert org_api.get(org.members(2)[-1], "/me").json()["participation"]["index"] == 0.0


def test_opted_out_people_appear_in_no_match_and_no_affected_list(org_api: OrgApi) -> None:
    org = org_api.org
    asker = org.members(1)[0]
    need = org_api.post(asker, "/needs", {"text": "assembly line quality inspection"}).json()
    before = [
        m["person"] for m in org_api.get(asker, f"/needs/{need['id']}/matches").json()["items"]
    ]
    closes = int(time.time()) + MONTH
    proposal = org_api.post(
        asker, "/proposals", {"text": "Audit", "affects": ["group:department 2"], "closes": closes}
    ).json()
    gone = next(name for name, person in org.people.items() if person.id == before[0])
    opt_out(org_api.store, org.people[gone].key)
    after = [
        m["person"] for m in org_api.get(asker, f"/needs/{need['id']}/matches").json()["items"]
    ]
    # the others keep their order, and the page is filled up from below
    assert after[: len(before) - 1] == before[1:] and before[0] not in after
    reached = org_api.get(asker, f"/proposals/{proposal['id']}/affected").json()["items"]
    assert before[0] not in {a["person"] for a in reached} and len(reached) == 9
