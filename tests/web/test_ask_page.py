"""The Ask page in Chromium: who knows about a path or a topic, with evidence, safely."""

from __future__ import annotations

from typing import Any

import pytest

from webfactory import HOSTILE, HOSTILE_MESSAGE, NAMES, WebApp, screenshot

pytestmark = pytest.mark.browser


def ask(page: Any, web: WebApp, question: str) -> Any:
    """Type ``question`` into the box with the keyboard and submit it with Enter."""
    page.goto(f"{web.url}/ask")
    page.click("h1")  # away from the box: "/" brings the keyboard back to it
    page.keyboard.press("/")
    page.keyboard.type(question)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#q").input_value() == question
    return page.locator("li.expert")


def test_a_path_finds_its_people_with_evidence(web: WebApp, page_for: Any) -> None:
    page = page_for("member")
    experts = ask(page, web, "lib/mem/")
    assert experts.count() >= 3
    mem_team = {NAMES[f"mem{i}@example.org"] for i in range(6)}
    names = experts.locator("h3 a bdi").all_inner_texts()
    assert set(names[:3]) <= mem_team, names
    first = experts.first
    assert first.locator("li.item").count() >= 1
    assert "lib/mem/" in first.locator(".files").first.inner_text()
    href = first.locator("h3 a").get_attribute("href")
    assert href == f"/people/{first.get_attribute('data-person')}"
    assert page.locator(".score").count() == 0  # members never see scores
    screenshot(page, "ask")


def test_hostile_names_render_as_text(web: WebApp, page_for: Any) -> None:
    page = page_for("admin")
    page.add_init_script("window.__pwned = 0")
    experts = ask(page, web, "drivers/net/vhost/")
    shown = experts.locator("h3 a bdi").all_inner_texts()
    assert HOSTILE["mallory@example.org"] in shown
    assert HOSTILE["dana@example.org"] in shown
    assert HOSTILE_MESSAGE in page.locator("li.item .name").all_inner_texts()
    assert page.locator(".score").count() >= 1  # admins see scores
    assert not web.pwned(page)
    assert page.locator("main script, main img").count() == 0


def test_logged_out_visitors_go_to_the_login_page(web: WebApp, page_for: Any) -> None:
    page = page_for(None)
    page.goto(f"{web.url}/ask?q=lib")
    assert page.url.startswith(f"{web.url}/login?next=/ask")
