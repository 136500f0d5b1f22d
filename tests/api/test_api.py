"""Routes, roles, limits, jobs, export and opt-out, through the HTTP API."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from knotwork.api.limits import Limits
from knotwork.store.erase import opt_out, purge
from knotwork.store.export import export

KEY = b"test-secret-key"


def test_who_knows_pages_and_hides_scores_from_members(api: Any) -> None:
    member = api.client.get(
        "/api/v1/who-knows", params={"q": "drivers/net/ice/"}, headers=api.as_("ada")
    )
    admin = api.client.get(
        "/api/v1/who-knows", params={"q": "drivers/net/ice/"}, headers=api.as_("root")
    )
    assert member.status_code == admin.status_code == 200
    assert [e["key"] for e in member.json()["items"]] == [e["key"] for e in admin.json()["items"]]
    assert "score" not in member.json()["items"][0] and "score" in admin.json()["items"][0]
    one = api.client.get(
        "/api/v1/who-knows",
        params={"q": "drivers/net/ice/", "limit": 1, "offset": 1},
        headers=api.as_("ada"),
    ).json()
    assert one["items"] == member.json()["items"][1:2] and one["limit"] == 1


def test_members_see_their_own_person_only(api: Any) -> None:
    own = api.client.get(f"/api/v1/people/{api.ids['ada']}", headers=api.as_("ada"))
    other = api.client.get(f"/api/v1/people/{api.ids['bob']}", headers=api.as_("ada"))
    assert own.status_code == 200 and own.json()["key"] == "ada@example.org"
    assert other.status_code == 403 and other.json()["error"]["error"] == "Forbidden"
    assert api.client.get("/api/v1/top/people", headers=api.as_("ada")).status_code == 403
    assert api.client.get("/api/v1/top/people", headers=api.as_("carol")).status_code == 200
    me = api.client.get("/api/v1/me/export", headers=api.as_("ada")).json()
    assert me["person"] == api.ids["ada"] and "authority" in me["methods"]


def test_limits(new_api: Any) -> None:
    api = new_api(limits=Limits(max_body=1000, max_query=50, per_minute=5))
    headers = api.as_("root")
    big = api.client.post(
        "/api/v1/ingest", params={"kind": "mbox"}, content=b"x" * 2000, headers=headers
    )
    assert big.status_code == 413 and big.json()["error"]["status"] == 413
    long = api.client.get("/api/v1/who-knows", params={"q": "x" * 51}, headers=headers)
    assert long.status_code == 422 and long.json()["error"]["place"] == "q"
    page = api.client.get("/api/v1/top/items", params={"limit": 101}, headers=headers)
    assert page.status_code == 422
    codes = [api.client.get("/api/v1/me", headers=headers).status_code for _ in range(4)]
    assert codes[-1] == 429 and 200 in codes
    assert api.client.get("/api/v1/me", headers=api.as_("ada")).status_code == 200  # per token


def test_routes_answer_at_most_limits_threads_at_once(new_api: Any, monkeypatch: Any) -> None:
    import knotwork.api.ask as ask

    running, most, lock = [0], [0], threading.Lock()
    ranked = ask.top_people

    def slow_top_people(*args: Any, **kwargs: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return ranked(*args, **kwargs)

    monkeypatch.setattr(ask, "top_people", slow_top_people)
    api = new_api(limits=Limits(threads=2))
    # (entering the client runs the app's lifespan, which sets the limit)
    with api.client, ThreadPoolExecutor(6) as pool:
        codes = list(
            pool.map(
                lambda _: api.client.get("/api/v1/top/people", headers=api.as_("carol")),
                range(6),
            )
        )
    assert [c.status_code for c in codes] == [200] * 6
    assert most[0] == 2  # the other four waited their turn


def test_failed_token_attempts_are_rate_limited(new_api: Any) -> None:
    api = new_api(limits=Limits(failed_auth_per_minute=3))
    codes = [
        api.client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code
        for _ in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_users_tokens_are_hashed_expire_and_revoke(api: Any) -> None:
    made = api.client.post(
        "/api/v1/users",
        json={"alias": "erin@example.org", "role": "analyst"},
        headers=api.as_("root"),
    )
    assert made.status_code == 201
    token = made.json()["token"]
    listed = api.client.get("/api/v1/users", headers=api.as_("root")).json()
    assert token not in json.dumps(listed)
    from knotwork.store import schema

    with api.store.connect() as connection:
        digests = [r.digest for r in connection.execute(schema.tokens.select())]
    assert token not in digests and hashlib.sha256(token.encode()).hexdigest() not in digests
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/me", headers=headers).json()["role"] == "analyst"
    assert (
        api.client.delete("/api/v1/users/erin@example.org", headers=api.as_("root")).status_code
        == 200
    )
    assert api.client.get("/api/v1/me", headers=headers).status_code == 401
    bad = api.client.post(
        "/api/v1/users", json={"alias": "x", "role": "member", "extra": 1}, headers=api.as_("root")
    )
    assert bad.status_code == 422


def test_expired_tokens_get_401(api: Any) -> None:
    from knotwork.store.accounts import add_user

    token = add_user(
        api.store, "old@example.org", "admin", key=KEY, now=int(time.time()) - 100 * 86_400
    )
    assert (
        api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_ingest_job_reports_progress(api: Any) -> None:
    mbox = Path(__file__).parents[1] / "data" / "mbox"
    sample = next(p for p in sorted(mbox.glob("*.mbox")) if "bad" not in p.name)
    started = api.client.post(
        "/api/v1/ingest",
        params={"kind": "mbox"},
        content=sample.read_bytes(),
        headers=api.as_("root"),
    )
    assert started.status_code == 202
    job = started.json()["id"]
    for _ in range(200):
        state = api.client.get(f"/api/v1/ingest/{job}", headers=api.as_("root")).json()
        if state["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert state["state"] == "done", state
    assert state["report"]["read"] >= 1 and state["read"] == state["report"]["read"]


def test_erasure_through_the_api(api: Any) -> None:
    gone = api.client.delete(f"/api/v1/people/{api.ids['bob']}", headers=api.as_("root"))
    assert gone.status_code == 200
    again = api.client.get(f"/api/v1/people/{api.ids['bob']}", headers=api.as_("root"))
    assert again.status_code == 404 and again.json()["error"]["error"] == "NotFoundError"
    rows = api.client.get("/api/v1/top/people", headers=api.as_("root")).json()["items"]
    assert "bob@example.org" not in [r["key"] for r in rows]


def test_opted_out_people_appear_in_no_result(api: Any) -> None:
    opt_out(api.store, "ada@example.org")
    who = api.client.get(
        "/api/v1/who-knows", params={"q": "drivers/net/ice/"}, headers=api.as_("root")
    )
    top = api.client.get("/api/v1/top/people", headers=api.as_("root"))
    assert "ada@example.org" not in [e["key"] for e in who.json()["items"]]
    assert "ada@example.org" not in [e["key"] for e in top.json()["items"]]
    assert (
        api.client.get(f"/api/v1/people/{api.ids['ada']}", headers=api.as_("root")).status_code
        == 404
    )


def test_pseudonymized_export_has_no_name_email_handle_or_unkeyed_hash(
    api: Any, tmp_path: Path
) -> None:
    files = export(api.store, tmp_path, key=KEY)
    text = "\n".join(f.read_text() for f in files).lower()
    secrets = [
        "ada@example.org",
        "bob@example.org",
        "ci-bot@example.org",
        "ada lovelace",
        "bob baker",
        "lovelace",
        "baker",
    ]
    for value in [*secrets, "ADA@EXAMPLE.ORG"]:
        assert value.lower() not in text
        for algorithm in ("md5", "sha1", "sha256"):
            digest = hashlib.new(algorithm, value.encode()).hexdigest()
            assert digest[:16] not in text, (value, algorithm)
    assert not re.search(r"[\w.+-]+@[\w-]+\.\w+", text)
    with (tmp_path / "links.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) > 5


def test_retention_purges_old_events(api: Any) -> None:
    from knotwork.store import schema

    with api.store.connect() as connection:
        before = len(connection.execute(schema.links.select()).all())
    removed = purge(api.store, older_than_days=365, now=1_577_836_800 + 731 * 86_400)
    with api.store.connect() as connection:
        times = [r.time for r in connection.execute(schema.links.select())]
    assert removed > 0 and len(times) == before - removed
    assert min(times) >= 1_577_836_800 + 366 * 86_400
