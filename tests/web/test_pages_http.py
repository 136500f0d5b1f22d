"""The people, groups, health, market, decisions and admin pages over HTTP (both backends).

A browser's requests are made with the session cookie and ``Accept: text/html``, so refusals
come back as the error page. The store holds :func:`webfactory.web_records` (three teams, a
``<script>`` name and a right-to-left name with a bidi override) and the :data:`USERS`.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apifactory import KEY
from knotwork.api import create_app
from knotwork.api.auth import SESSION_COOKIE
from knotwork.config import Settings
from knotwork.ingest.base import Batch
from knotwork.ingest.orgchart import OrgChartSource
from knotwork.store.accounts import add_user
from knotwork.store.engine import Store
from knotwork.store.identity import resolve
from knotwork.store.writer import SourceInfo, ingest, write_batch
from knotwork.web.groups import PLOTLY_URL
from webfactory import HOSTILE, NAMES, USERS, web_records


@dataclass
class Site:
    """The app over a store with the web tests' data, and a browser-like client per user."""

    app: Any
    store: Store
    tokens: dict[str, str]

    def as_(self, who: str | None) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=True, follow_redirects=False)
        client.headers["accept"] = "text/html"
        if who is not None:
            client.cookies.set(SESSION_COOKIE, self.tokens[who])
        return client

    def person(self, email: str) -> int:
        return int(resolve(self.store, email))


@pytest.fixture()
def site(new_store: Callable[[], Store], _secret: None) -> Iterator[Site]:
    store = new_store()
    write_batch(store, SourceInfo("git", "git:web", "web"), Batch(web_records(), [], {}))
    tokens = {who: add_user(store, alias, role, key=KEY) for who, (alias, role) in USERS.items()}
    app = create_app(Settings(database_url=store.url), key=KEY, store=store)
    yield Site(app, store, tokens)


def mailing_list(messages: int) -> bytes:
    """An mbox of patches and replies by twenty people about the net driver."""
    out = []
    for i in range(messages):
        reply = f"In-Reply-To: <p{i - 1}@lists.example.org>\n" if i % 4 else ""
        out.append(
            "From dev@lists.example.org Tue Mar  1 09:00:00 2022\n"
            f"From: Dev {i % 20} <dev{i % 20}@lists.example.org>\n"
            f"Subject: [PATCH] net/ice: fix ring setup {i // 4}\n"
            f"Message-ID: <p{i}@lists.example.org>\n{reply}"
            f"Date: Tue, {i % 28 + 1:02d} Mar 2022 09:{i % 60:02d}:00 +0000\n\n"
            f"Reviewed the ring setup in drivers/net/ice/ice_rxtx.c ({i}).\n\n"
        )
    return "".join(out).encode()


def text_of(page: str) -> str:
    """The visible text of ``page``, tags dropped and entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_each_page_is_for_the_roles_of_its_api_route(site: Site) -> None:
    expected = {
        "member": {"/me": 200, "/market": 200, "/decisions": 200, "/groups": 403},
        "analyst": {"/admin": 403, "/me": 200, "/market": 200},
        "admin": {"/admin": 200, "/decisions": 200, "/me": 200},
    }
    member = site.as_("member")
    assert member.get("/dashboard").status_code == 403
    refused = member.get("/admin")
    assert refused.status_code == 403 and "Forbidden" in refused.text
    assert refused.headers["content-type"].startswith("text/html")
    for who, pages in expected.items():
        client = site.as_(who)
        for path, status in pages.items():
            assert client.get(path).status_code == status, (who, path)
    for path in ("/me", "/market", "/decisions/1", "/groups", "/dashboard", "/admin"):
        answer = site.as_(None).get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert site.as_("member").get("/health").json() == {"status": "ok"}  # still the liveness


def test_a_member_sees_their_own_page_and_not_another_members(site: Site) -> None:
    me, other = site.person("net0@example.org"), site.person("mem0@example.org")
    member = site.as_("member")
    own = member.get("/me")
    assert own.status_code == 200
    shown = text_of(own.text)
    assert NAMES["net0@example.org"] in shown
    assert "drivers" in shown  # my area
    table = own.text.split('class="collaborators"', 1)[1].split("</table>", 1)[0]
    collaborators = re.findall(r"<td><bdi>([^<]+)</bdi></td><td>(\d+)</td>", table)
    net_team = {NAMES[f"net{i}@example.org"] for i in range(1, 6)}
    shown_names = [html.unescape(name) for name, _ in collaborators]
    assert shown_names[0] in net_team and net_team <= set(shown_names), collaborators
    api = member.get(f"/api/v1/people/{me}", headers={"accept": "application/json"}).json()
    same = [(NAMES.get(c["key"], c["key"]), str(c["count"])) for c in api["coworkers"]]
    assert [(html.unescape(n), c) for n, c in collaborators[: len(same)]] == same
    counts = [int(count) for _, count in collaborators]
    assert counts == sorted(counts, reverse=True)
    assert 'href="/api/v1/me/export"' in own.text
    assert member.get(f"/people/{me}").status_code == 200
    refused = member.get(f"/people/{other}")
    assert refused.status_code == 403
    assert "only your own person" in refused.text and NAMES["mem0@example.org"] not in refused.text
    assert site.as_("analyst").get(f"/people/{other}").status_code == 403
    assert NAMES["mem0@example.org"] in site.as_("admin").get(f"/people/{other}").text
    export = member.get("/api/v1/me/export")
    assert export.json()["profile"]["key"] == "net0@example.org"


def test_opting_out_hides_me_from_others_and_can_be_undone(site: Site) -> None:
    member, admin = site.as_("member"), site.as_("admin")
    colleague = site.person("net1@example.org")
    name = NAMES["net0@example.org"]
    assert name in admin.get(f"/people/{colleague}").text
    assert member.post("/me/opt-out", data={"choice": "out"}).status_code == 303
    assert "You are opted out" in member.get("/me").text
    assert name not in admin.get(f"/people/{colleague}").text  # no one's co-worker any more
    member.post("/me/opt-out", data={"choice": "in"})
    assert "You are opted out" not in member.get("/me").text
    assert name in admin.get(f"/people/{colleague}").text


def test_names_and_texts_are_escaped_everywhere(site: Site) -> None:
    mallory, dana = site.person("mallory@example.org"), site.person("dana@example.org")
    admin = site.as_("admin")
    for page in (admin.get(f"/people/{mallory}").text, admin.get("/groups").text):
        assert "<script>window.__pwned" not in page
        assert html.escape(HOSTILE["mallory@example.org"], quote=False) in page
    assert f"<bdi>{HOSTILE['dana@example.org']}</bdi>" in admin.get(f"/people/{dana}").text
    member = site.as_("member")
    hostile = '<img src=x onerror="window.__pwned=1"> need \u202eevil\u202c help with offload'
    posted = member.post("/market/needs", data={"text": hostile, "days": "10"})
    assert posted.status_code == 303
    for page in (member.get("/market").text, member.get(posted.headers["location"]).text):
        assert "<img src=x" not in page and "&lt;img src=x" in page
    proposal = member.post(
        "/decisions", data={"text": "<script>alert(1)</script> merge queues", "affects": "lib/"}
    )
    page = member.get(proposal.headers["location"]).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_a_member_posts_a_need_sees_matches_and_closes_it(site: Site) -> None:
    member, other = site.as_("member2"), site.as_("member")
    posted = member.post(
        "/market/needs", data={"text": "help with link queue offload in the net driver"}
    )
    assert posted.status_code == 303
    need_page = member.get(posted.headers["location"])
    matches = re.findall(r'<li class="match" data-person="(\d+)"', need_page.text)
    net_team = {site.person(f"net{i}@example.org") for i in range(6)}
    assert matches and int(matches[0]) in net_team, matches
    assert "text " in need_page.text  # the reasons
    need = int(posted.headers["location"].rsplit("/", 1)[1])
    offer = other.post("/market/offers", data={"text": "reviews of offload code", "capacity": "3h"})
    assert offer.status_code == 303
    offered = other.get(offer.headers["location"]).text
    assert f'data-need="{need}"' in offered  # the offer finds the open need
    assert other.post(f"/market/needs/{need}/close", data={"state": "fulfilled"}).status_code == 403
    assert (
        member.post(f"/market/needs/{need}/close", data={"state": "fulfilled"}).status_code == 303
    )
    market = member.get("/market").text
    assert f'data-item="{need}" data-state="fulfilled"' in market
    assert f'href="/market/needs/{need}"' in market  # in mine only: not among the open needs
    assert market.count(f'href="/market/needs/{need}"') == 1
    refused = member.post("/market/offers", data={"text": "x", "capacity": "lots"})
    assert refused.status_code == 422 and "capacity" in refused.text.lower()
    assert site.as_("admin").post("/market/needs", data={"text": "x"}).status_code == 403


def test_a_member_responds_to_a_proposal_and_sees_who_is_affected(site: Site) -> None:
    proposer, member = site.as_("member"), site.as_("member2")
    made = proposer.post(
        "/decisions", data={"text": "Move the allocator to hugepages", "affects": "lib/mem/"}
    )
    assert made.status_code == 303
    where = made.headers["location"]
    page = member.get(where).text
    affected = {int(p) for p in re.findall(r'<tr data-person="(\d+)"', page)}
    mem_team = {site.person(f"mem{i}@example.org") for i in range(6)}
    assert len(affected & mem_team) >= 3 and "works on " in page
    assert not re.search(r"works on [0-9a-f]{40}", page)  # items named by their titles
    assert site.person("docs3@example.org") not in affected
    answered = member.post(f"{where}/responses", data={"choice": "block", "reason": "not yet"})
    assert answered.status_code == 303
    page = member.get(where).text
    assert 'data-choice="block"' in page and "not yet" in text_of(page)
    assert "blocked" in page  # the standing
    member.post(f"{where}/responses", data={"choice": "agree", "reason": "tested it"})
    page = text_of(member.get(where).text)
    assert "You answered agree" in page and "passed" in page
    wrong = member.post(f"{where}/responses", data={"choice": "maybe"})
    assert wrong.status_code == 422 and "expected one of" in wrong.text
    assert proposer.get("/decisions").text.count(where) == 1


def test_an_admin_ingests_a_file_and_the_job_page_reaches_100(site: Site, tmp_path: Any) -> None:
    admin = site.as_("admin")
    upload = {"file": ("list.mbox", mailing_list(5))}
    assert (
        site.as_("member").post("/admin/ingest", data={"kind": "mbox"}, files=upload).status_code
        == 403
    )
    started = admin.post(
        "/admin/ingest", data={"kind": "mbox"}, files={"file": ("list.mbox", mailing_list(200))}
    )
    assert started.status_code == 303 and started.headers["location"].startswith("/admin/jobs/")
    deadline = time.monotonic() + 60
    while True:
        page = admin.get(started.headers["location"]).text
        if 'http-equiv="refresh"' not in page or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert 'data-state="done"' in page and 'value="100"' in page, page
    assert "200 records read" in page
    server_file = tmp_path / "list.mbox"
    server_file.write_bytes(mailing_list(20))
    again = admin.post("/admin/ingest/path", data={"kind": "mbox", "path": str(server_file)})
    assert again.status_code == 303 and server_file.exists()  # the job reads a copy
    missing = admin.post("/admin/ingest/path", data={"kind": "mbox", "path": "/nonexistent"})
    assert missing.status_code == 422 and "no such file" in missing.text


def test_an_admin_adds_and_revokes_a_token_and_merges_and_splits_people(site: Site) -> None:
    admin = site.as_("admin")
    added = admin.post("/admin/users", data={"alias": "docs4@example.org", "role": "analyst"})
    assert added.status_code == 201 and added.headers["cache-control"] == "no-store"
    token = re.search(r'id="new-token" class="secret" readonly value="([^"]+)"', added.text)
    assert token is not None
    site.tokens["new"] = token.group(1)
    assert site.as_("new").get("/groups").status_code == 200
    assert token.group(1) not in admin.get("/admin").text  # shown once
    revoked = admin.post("/admin/users/revoke", data={"alias": "docs4@example.org"})
    assert "Revoked 1 token" in revoked.text
    assert site.as_("new").get("/groups").status_code == 303  # back to the login page
    kept, merged = site.person("docs4@example.org"), site.person("docs5@example.org")
    done = admin.post("/admin/identities/merge", data={"kept": str(kept), "merged": str(merged)})
    assert done.status_code == 303
    page = admin.get("/admin").text
    assert f'name="person" value="{merged}"' in page
    assert admin.post("/admin/identities/split", data={"person": str(merged)}).status_code == 303
    assert f'name="person" value="{merged}"' not in admin.get("/admin").text
    again = admin.post("/admin/identities/split", data={"person": str(merged)})
    assert again.status_code == 422 and "not merged" in again.text


def test_groups_and_the_health_dashboard_for_analysts_with_the_reports_plots(
    site: Site, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = site.as_("analyst").get("/dashboard").text
    figures = re.findall(r'data-figure="([^"]*)"', page)
    assert len(figures) == 4  # walls vs work needs an org chart
    assert "No org chart is loaded" in page
    assert all(html.unescape(f).startswith("{") for f in figures)
    sources = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert PLOTLY_URL in sources and all(s.startswith("/") for s in sources)
    assert not re.search(r"<script(?![^>]*src=)[^>]*>", page)  # no inline script
    js = site.as_("analyst").get(PLOTLY_URL)
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert b"plotly.js" in js.content[:2000]
    monkeypatch.setattr("knotwork.web.groups.HISTORY_WAIT", 0.0)
    groups = site.as_("analyst").get("/groups?every=60").text
    assert re.findall(r'<tr data-group="\d+">', groups)
    deadline = time.monotonic() + 60
    while 'http-equiv="refresh"' in groups and time.monotonic() < deadline:
        assert "being computed" in groups  # a large store's history is computed aside
        time.sleep(0.2)
        groups = site.as_("analyst").get("/groups?every=60").text
    assert "formed" in text_of(groups) and 'http-equiv="refresh"' not in groups
    assert 'href="/people/' not in groups  # analysts see sizes, never members
    chart = tmp_path / "orgchart.csv"
    rows = ["person,name,email,unit,manager,title"]
    for n, (team, unit) in enumerate([("net", "Networking"), ("mem", "Memory"), ("docs", "Docs")]):
        rows += [
            f"{n}{i},{NAMES[f'{team}{i}@example.org']},{team}{i}@example.org,{unit},,Dev"
            for i in range(6)
        ]
    chart.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ingest(site.store, OrgChartSource(chart))
    page = site.as_("admin").get("/dashboard").text
    assert len(re.findall(r'data-figure="([^"]*)"', page)) == 5 and "No org chart" not in page
    walls = json.loads(
        html.unescape(re.findall(r'id="walls".*?data-figure="([^"]*)"', page, re.S)[0])
    )
    assert sorted(walls["data"][0]["x"]) == ["Docs", "Memory", "Networking"]
