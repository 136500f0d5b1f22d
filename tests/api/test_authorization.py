"""Authorisation, generated from the OpenAPI document: every route is called with no token, a
member, another member, an analyst and an admin, a route that may change the store on a fresh API.
Routes marked ``actor`` write as the caller's person: callers with no person in the graph (the
analyst and the admin here) get 403 there.

It fails when a route has no policy entry, when someone the policy excludes gets a 2xx, when
someone it allows is turned away (401/403), or when a caller without a valid token is not 401.
"""

from __future__ import annotations

from typing import Any

import pytest

from knotwork.api.policy import ADMIN, POLICY, PUBLIC

#: Who calls, and in which role; ``ada`` owns the person in ``{id}``, ``bob`` does not.
CALLERS = {None: None, "ada": "member", "bob": "member", "carol": "analyst", "root": ADMIN}
#: Example values of required parameters and bodies, by name.
PARAMS = {
    "purpose": "drivers/net/ice/",
    "q": "drivers/net/ice/",
    "kind": "mbox",
    "alias": "dave@example.org",
    "job": "nojob",
}
BODIES = {
    "NewUser": {"alias": "erin@example.org", "role": "member"},
    "Pair": {"kept": "ada@example.org", "merged": "bob@example.org"},
    "Person": {"person": "ada@example.org"},
    "NewPost": {"text": "Notes on ice hotplug", "cites": ["drivers/net/ice/ice.c"]},
    "NewNeed": {"text": "Who can review ice hotplug?"},
    "NewOffer": {"text": "Reviews of ice patches", "capacity": "2h/week"},
    "Commitment": {"need": 1, "hours": 1.0},
    "Closing": {"state": "withdrawn"},
    "NewProposal": {"text": "Move ice", "affects": ["drivers/net/ice/"], "closes": 2**33},
    "NewResponse": {"choice": "agree"},
}
#: Callers whose account names a person in the graph (the actors of ``actor`` routes).
ACTORS = {"ada", "bob"}


def routes(api: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the app's OpenAPI document."""
    document = api.client.get("/api/v1/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def call(api: Any, method: str, path: str, operation: dict[str, Any], who: str | None) -> int:
    """Call one route as ``who``, with example parameters; the status code."""
    url = path.replace("{id}", str(api.ids["ada"]))
    query = {}
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] == "path":
            if name != "id":
                url = url.replace("{" + name + "}", PARAMS[name])
        elif parameter.get("required"):
            query[name] = PARAMS[name]
    json = None
    if "requestBody" in operation:
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        json = BODIES[ref.rsplit("/", 1)[1]]
    response = api.client.request(method, url, params=query, json=json, headers=api.as_(who))
    return int(response.status_code)


def test_every_route_has_a_policy(api: Any) -> None:
    found = {(method, path) for method, path, _ in routes(api)}
    assert found - PUBLIC - set(POLICY) == set(), "routes without a policy entry"
    assert set(POLICY) - found == set(), "policy entries without a route"


def test_every_route_answers_each_role_as_the_policy_says(new_api: Any) -> None:
    first = new_api()
    for method, path, operation in routes(first):
        if (method, path) in PUBLIC:
            continue
        rule = POLICY[(method, path)]
        api = first if method == "GET" else new_api()  # the admin, last, may change the store
        for who, role in CALLERS.items():
            status = call(api, method, path, operation, who)
            where = f"{method} {path} as {who} ({role})"
            if role is None:
                assert status == 401, where
                continue
            allowed = role in rule.roles and not (rule.own and role != ADMIN and who != "ada")
            allowed = allowed and not (rule.actor and who not in ACTORS)
            if allowed:
                assert status not in (401, 403), f"{where}: turned away ({status})"
                assert status < 500, f"{where}: server error"
            else:
                assert not 200 <= status < 300, f"{where}: answered {status}"
                assert status == 403, where


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer kw_wrong", "Basic abc", "bearer"])
def test_bad_tokens_get_401_with_one_error_shape(api: Any, header: str) -> None:
    response = api.client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["error"] == "Unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_health_needs_no_token(api: Any) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}
