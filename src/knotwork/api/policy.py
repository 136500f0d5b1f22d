"""Who may call what: one table naming the roles allowed on every route.

A route missing from :data:`POLICY` answers 403 to everyone (and the authorisation test fails).
``SELF`` routes take a person id: members and analysts may call them for themselves only.

>>> allowed("GET", "/api/v1/users", "member"), allowed("GET", "/api/v1/users", "admin")
(False, True)
>>> sorted(POLICY[("GET", "/api/v1/me")].roles)
['admin', 'analyst', 'member']
"""

from __future__ import annotations

from dataclasses import dataclass

MEMBER, ANALYST, ADMIN = "member", "analyst", "admin"
EVERYONE = frozenset({MEMBER, ANALYST, ADMIN})
ADMINS = frozenset({ADMIN})
ANALYSTS = frozenset({ANALYST, ADMIN})


@dataclass(frozen=True)
class Rule:
    """The roles allowed; ``own``: non-admins only on their own person (path ``{id}``);
    ``actor``: the route writes as the caller's person (403 for accounts without one)."""

    roles: frozenset[str]
    own: bool = False
    actor: bool = False


#: (method, path template) -> rule. ``/health`` is public and not listed.
POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/who-knows"): Rule(EVERYONE),
    ("GET", "/api/v1/explain/{id}"): Rule(EVERYONE, own=True),
    ("GET", "/api/v1/top/items"): Rule(EVERYONE),
    ("GET", "/api/v1/top/people"): Rule(ANALYSTS),
    ("GET", "/api/v1/people/{id}"): Rule(EVERYONE, own=True),
    ("DELETE", "/api/v1/people/{id}"): Rule(ADMINS),
    ("GET", "/api/v1/identities/suggestions"): Rule(ADMINS),
    ("POST", "/api/v1/identities/merges"): Rule(ADMINS),
    ("POST", "/api/v1/identities/splits"): Rule(ADMINS),
    ("GET", "/api/v1/users"): Rule(ADMINS),
    ("POST", "/api/v1/users"): Rule(ADMINS),
    ("DELETE", "/api/v1/users/{alias}"): Rule(ADMINS),
    ("GET", "/api/v1/me"): Rule(EVERYONE),
    ("GET", "/api/v1/me/export"): Rule(EVERYONE),
    ("GET", "/api/v1/groups"): Rule(ANALYSTS),
    ("GET", "/api/v1/health"): Rule(ANALYSTS),
    ("GET", "/api/v1/team"): Rule(EVERYONE),
    ("POST", "/api/v1/ingest"): Rule(ADMINS),
    ("GET", "/api/v1/ingest/{job}"): Rule(ADMINS),
    ("POST", "/api/v1/posts"): Rule(EVERYONE, actor=True),
    ("GET", "/api/v1/posts"): Rule(EVERYONE),
    ("POST", "/api/v1/needs"): Rule(EVERYONE, actor=True),
    ("GET", "/api/v1/needs"): Rule(EVERYONE),
    ("POST", "/api/v1/offers"): Rule(EVERYONE, actor=True),
    ("GET", "/api/v1/offers"): Rule(EVERYONE),
    ("GET", "/api/v1/needs/{id}/matches"): Rule(EVERYONE),
    ("GET", "/api/v1/offers/{id}/matches"): Rule(EVERYONE),
    ("POST", "/api/v1/offers/{id}/commitments"): Rule(EVERYONE, actor=True),
    ("POST", "/api/v1/needs/{id}/close"): Rule(EVERYONE, actor=True),
    ("POST", "/api/v1/offers/{id}/close"): Rule(EVERYONE, actor=True),
    ("POST", "/api/v1/proposals"): Rule(EVERYONE, actor=True),
    ("GET", "/api/v1/proposals"): Rule(EVERYONE),
    ("GET", "/api/v1/proposals/{id}"): Rule(EVERYONE),
    ("GET", "/api/v1/proposals/{id}/affected"): Rule(EVERYONE),
    ("POST", "/api/v1/proposals/{id}/responses"): Rule(EVERYONE, actor=True),
    ("GET", "/api/v1/participation"): Rule(ANALYSTS),
    ("GET", "/api/v1/graph"): Rule(EVERYONE),
}

#: Routes anyone may call without a token.
PUBLIC = frozenset({("GET", "/health")})


def allowed(method: str, path: str, role: str) -> bool:
    """Whether ``role`` may call ``method path`` at all (own-person checks come later)."""
    rule = POLICY.get((method, path))
    return rule is not None and role in rule.roles


__all__ = ["ADMIN", "ANALYST", "MEMBER", "POLICY", "PUBLIC", "Rule", "allowed"]
