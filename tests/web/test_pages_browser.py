"""The people, market, decisions, health and admin pages in Chromium (tests/webfactory.py).

A member posts a need and sees who matches; responds to a proposal; cannot open another
member's page; an analyst's dashboard draws the report's plots offline; an admin uploads a
mailing list and watches the job's progress reach 100%.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from webfactory import NAMES, WebApp, screenshot

pytestmark = pytest.mark.browser

DAY = 86_400


def mailing_list(messages: int) -> bytes:
    """An mbox of the *net* team's patches and replies (the people and ties already in the
    shared store: the other tests' counts stay as they were)."""
    out = []
    for i in range(messages):
        reply = f"In-Reply-To: <m{i - 1}@lists.example.org>\n" if i % 3 else ""
        who = f"net{i % 6}@example.org"
        out.append(
            "From dev@lists.example.org Tue Mar  1 09:00:00 2022\n"
            f"From: {NAMES[who]} <{who}>\n"
            f"Subject: [PATCH] net: fix link queue flush {i // 3}\n"
            f"Message-ID: <m{i}@lists.example.org>\n{reply}"
            f"Date: Tue, {i % 28 + 1:02d} Feb 2022 10:{i % 60:02d}:00 +0000\n\n"
            f"The flush in drivers/net/queue_{i % 3}.c loses packets ({i}).\n\n"
        )
    return "".join(out).encode()


def test_a_member_posts_a_need_and_sees_a_match(web: WebApp, page_for: Any) -> None:
    page = page_for("member2")
    page.goto(f"{web.url}/market")
    page.get_by_label("What information or help do you need?").fill(
        "someone who knows the link queue offload in the net drivers"
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Post the need").click()
    assert re.search(r"/market/needs/\d+$", page.url), page.url
    matches = page.locator("li.match")
    assert matches.count() >= 1
    net_team = {NAMES[f"net{i}@example.org"] for i in range(6)}
    assert matches.first.locator("strong bdi").inner_text() in net_team
    assert "text" in matches.first.locator("ul.reasons").inner_text()
    screenshot(page, "market-need")
    page.goto(f"{web.url}/market")
    mine = page.locator("#mine tr[data-state=open]")
    assert mine.count() >= 1
    screenshot(page, "market")


def test_a_member_responds_to_a_proposal(web: WebApp, page_for: Any) -> None:
    closes = int(time.time()) + 7 * DAY
    made = web.api("member").post(
        "/api/v1/proposals",
        json={"text": "Rework the hugepage allocator", "affects": ["lib/mem/"], "closes": closes},
    )
    assert made.status_code == 200, made.text
    proposal = made.json()["id"]
    page = page_for("member2")
    page.goto(f"{web.url}/decisions")
    with page.expect_navigation():
        page.locator(f"li[data-proposal='{proposal}'] a").click()
    assert page.locator("table.affected tbody tr").count() >= 3
    page.get_by_label("agree", exact=True).check()
    page.get_by_label("Why (shown to everyone)").fill("I maintain the allocator: fine by me")
    with page.expect_navigation():
        page.keyboard.press("Tab")  # from the reason to the button, then send it
        page.keyboard.press("Enter")
    assert page.locator("#responded").get_attribute("data-choice") == "agree"
    assert "I maintain the allocator" in page.locator("ul.reasons").inner_text()
    assert page.locator(".standing").inner_text() == "passed"
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "decision")


def test_a_member_cannot_open_another_members_page(web: WebApp, page_for: Any) -> None:
    page = page_for("member")
    page.add_init_script("window.__pwned = 0")
    answer = page.goto(f"{web.url}/people/{web.people['member2']}")
    assert answer is not None and answer.status == 403
    assert "403" in page.locator("h1").inner_text()
    assert NAMES["mem0@example.org"] not in page.content()
    own = page.goto(f"{web.url}/me")
    assert own is not None and own.status == 200
    assert NAMES["net0@example.org"] in page.locator("h1").inner_text()
    assert page.locator("table.collaborators tbody tr").count() >= 5
    assert not web.pwned(page)
    screenshot(page, "me")


def test_an_analyst_sees_the_dashboard_drawn_offline(web: WebApp, page_for: Any) -> None:
    page = page_for("analyst")
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(web.url) else None)
    page.goto(f"{web.url}/dashboard")
    page.wait_for_selector(".plot[data-drawn='1']", timeout=20_000)
    page.wait_for_function(
        "document.querySelectorAll('.plot').length === "
        "document.querySelectorAll('.plot[data-drawn]').length",
        timeout=20_000,
    )
    assert page.locator(".plot .main-svg").count() >= 4
    assert outside == []
    screenshot(page, "health")


def test_an_admin_ingests_a_file_and_watches_progress_reach_100(
    web: WebApp, page_for: Any, tmp_path: Any
) -> None:
    upload = tmp_path / "net.mbox"
    upload.write_bytes(mailing_list(2000))
    page = page_for("admin")
    page.goto(f"{web.url}/admin")
    screenshot(page, "admin")
    page.set_viewport_size({"width": 1024, "height": 700})  # a small laptop: nothing spills
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("What it holds").first.select_option("mbox")
    page.set_input_files("#upload-file", str(upload))
    with page.expect_navigation():
        page.get_by_role("button", name="Ingest the file").click()
    assert "/admin/jobs/" in page.url
    loads: list[int] = []
    page.on("response", lambda r: loads.append(r.status) if "/admin/jobs/" in r.url else None)
    if page.locator("#job").get_attribute("data-state") != "done":
        assert page.locator("meta[http-equiv=refresh]").count() == 1  # it watches itself
    page.wait_for_selector("#job[data-state='done']", timeout=60_000)
    assert page.locator("#progress").get_attribute("value") == "100"
    assert page.locator("meta[http-equiv=refresh]").count() == 0  # done: no more reloads
    assert set(loads) <= {200}
    assert "2000 records read" in page.locator("#progress-label").inner_text()
    screenshot(page, "admin-job")
