"""The graph page in Chromium: the map renders its people, zooms, focuses a neighbourhood on a
click, filters by group, and shows what each role may see."""

from __future__ import annotations

from typing import Any

import pytest

from webfactory import HOSTILE, WebApp, screenshot


def open_map(page: Any, web: WebApp) -> Any:
    """Go to the graph page and wait for the first render; the canvas container."""
    page.add_init_script("window.__pwned = 0")
    page.goto(f"{web.url}/graph")
    canvas = page.locator("#graph")
    page.wait_for_selector("#graph[data-ready='1']", timeout=15_000)
    return canvas


def screen_position(page: Any, node: str) -> dict[str, float]:
    """Where sigma draws node ``node`` (its key: the index in the map), in page pixels."""
    return dict(
        page.evaluate(
            """(node) => {
                const box = document.querySelector('#graph').getBoundingClientRect();
                return window.__graphNode(node, box);
            }""",
            node,
        )
    )


@pytest.mark.browser
def test_the_map_renders_every_person_of_the_answer(web: WebApp, page_for: Any) -> None:
    page = page_for("member")
    canvas = open_map(page, web)
    answer = web.api("member").get("/api/v1/graph").json()
    assert int(canvas.get_attribute("data-nodes")) == len(answer["nodes"]["id"]) >= 18
    assert int(canvas.get_attribute("data-links")) == len(answer["links"]["src"]) > 18
    assert page.locator("canvas").count() >= 2  # sigma's WebGL layers
    assert answer["nodes"]["size"] is None  # members see no authority
    assert answer["nodes"]["id"][answer["me"]] == str(web.people["member"])
    names = page.locator("#people-names option").evaluate_all("os => os.map(o => o.value)")
    assert HOSTILE["mallory@example.org"] in names
    assert HOSTILE["dana@example.org"] in names
    assert not web.pwned(page)
    assert page.locator("#legend li").count() == len(answer["groups"]) >= 2
    screenshot(page, "graph")


@pytest.mark.browser
def test_wheel_zooms_and_a_click_focuses_the_neighbourhood(web: WebApp, page_for: Any) -> None:
    page = page_for("admin")
    canvas = open_map(page, web)
    before = float(canvas.get_attribute("data-ratio"))
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_function(f"Number(document.querySelector('#graph').dataset.ratio) < {before}")
    page.keyboard.press("Escape")
    page.click("button[data-zoom='reset']")
    page.wait_for_function(f"Number(document.querySelector('#graph').dataset.ratio) >= {before}")
    # find a person through the accessible search, then click another on the canvas
    page.fill("#find", "Maria Lindqvist")
    page.click("#find-form button")
    page.wait_for_selector("#focus:not([hidden]) h2")
    assert page.locator("#focus h2").inner_text() == "Maria Lindqvist"
    page.click("#focus button")
    page.wait_for_selector("#focus", state="hidden")
    page.click("button[data-zoom='reset']")
    # the reset's animation has ended (a node's place is read next, then hovered and clicked)
    page.wait_for_function("document.querySelector('#graph').dataset.ratio === '1.0000'")
    answer = web.api("admin").get("/api/v1/graph").json()
    target = answer["nodes"]["name"].index("Chen Wei")
    spot = screen_position(page, str(target))
    page.mouse.move(spot["x"], spot["y"])  # hovering names the person under the mouse
    page.wait_for_function(
        f"document.querySelector('#graph').dataset.hover === '{answer['nodes']['id'][target]}'"
    )
    assert page.locator("#graph-hover").inner_text() == "Chen Wei"
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_function(
        f"document.querySelector('#graph').dataset.focus === '{answer['nodes']['id'][target]}'"
    )
    expected = {
        answer["links"]["dst"][i] for i, s in enumerate(answer["links"]["src"]) if s == target
    }
    expected |= {
        answer["links"]["src"][i] for i, d in enumerate(answer["links"]["dst"]) if d == target
    }
    assert int(canvas.get_attribute("data-neighbours")) == len(expected) > 0
    assert page.locator("#focus li").count() == min(len(expected), 25)
    assert float(canvas.get_attribute("data-ratio")) < 1
    assert answer["nodes"]["size"] is not None  # admins see authority
    # dragging the map with the mouse pans it (the camera moves)
    page.click("#focus button")
    page.wait_for_selector("#focus", state="hidden")
    page.wait_for_timeout(400)  # the camera's focus animation has ended
    camera = canvas.get_attribute("data-camera")
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 90, steps=5)
    page.mouse.up()
    page.wait_for_function(f"document.querySelector('#graph').dataset.camera !== '{camera}'")
    assert page.locator("#focus").is_hidden()  # a drag is not a click


@pytest.mark.browser
def test_a_group_filter_shows_only_its_people(web: WebApp, page_for: Any) -> None:
    page = page_for("analyst")
    canvas = open_map(page, web)
    answer = web.api("analyst").get("/api/v1/graph").json()
    group = answer["groups"][-1]
    page.select_option("#group", str(group["id"]))
    shown = answer["nodes"]["group"].count(group["id"])
    page.wait_for_function(f"document.querySelector('#graph').dataset.nodes === '{shown}'")
    assert 0 < shown < len(answer["nodes"]["id"])
    assert int(canvas.get_attribute("data-nodes")) == shown


# -- the map's answer and its privacy rules, on both backends (no browser) --------------------


@pytest.fixture()
def team_store(store: Any) -> Any:
    from knotwork.ingest.base import Batch
    from knotwork.store.writer import SourceInfo, write_batch
    from webfactory import web_records

    write_batch(store, SourceInfo("git", "git:web", "web"), Batch(web_records(), [], {}))
    return store


def test_members_see_no_sizes_and_no_small_groups(team_store: Any) -> None:
    from knotwork.services.graphmap import graph_map
    from knotwork.store.identity import resolve

    me = resolve(team_store, "net0@example.org")
    member = graph_map(team_store, k_min=7, me=me)
    admin = graph_map(team_store, k_min=7, admin=True)
    assert member["nodes"]["size"] is None
    assert len(admin["nodes"]["size"]) == len(admin["nodes"]["id"])
    assert max(admin["nodes"]["size"]) == 1.0
    assert member["nodes"]["id"][member["me"]] == str(me)
    small = [g for g in admin["groups"] if g["size"] < 7]
    assert small, "the fixture should have a group under k_min = 7"
    assert {g["id"] for g in member["groups"]} == {g["id"] for g in admin["groups"]} - {
        g["id"] for g in small
    }
    assert not set(member["nodes"]["group"]) & {g["id"] for g in small}
    assert member["hidden"]["small_groups"] == len(small)
    # positions are the same for everyone, and inside the unit square
    assert member["nodes"]["x"] == admin["nodes"]["x"]
    assert min(member["nodes"]["x"]) >= 0 and max(member["nodes"]["y"]) <= 1


def test_opted_out_people_leave_the_map_and_its_ties(team_store: Any) -> None:
    from knotwork.services.graphmap import graph_map
    from knotwork.store.erase import opt_out
    from knotwork.store.identity import resolve

    gone = str(resolve(team_store, "net1@example.org"))
    before = graph_map(team_store)
    assert gone in before["nodes"]["id"]
    opt_out(team_store, "net1@example.org")
    after = graph_map(team_store, admin=True)
    assert gone not in after["nodes"]["id"]
    # everyone else stays, but for people whose only ties were with the one who left
    ids = before["nodes"]["id"]
    ties: dict[str, set[str]] = {i: set() for i in ids}
    for a, b in zip(before["links"]["src"], before["links"]["dst"], strict=True):
        ties[ids[a]].add(ids[b])
        ties[ids[b]].add(ids[a])
    alone = {i for i, others in ties.items() if others == {gone}}
    assert set(after["nodes"]["id"]) == set(ids) - {gone} - alone
    n = len(after["nodes"]["id"])
    assert max(after["links"]["src"] + after["links"]["dst"]) < n
    assert len(after["links"]["src"]) < len(before["links"]["src"])


def test_the_time_slider_and_source_filter_narrow_the_map(team_store: Any) -> None:
    from knotwork.errors import InputError
    from knotwork.services.graphmap import graph_map

    whole = graph_map(team_store)
    start, end = whole["span"]
    assert whole["as_of"] == end
    early = graph_map(team_store, as_of=start + 90 * 86_400)
    assert early["as_of"] == start + 90 * 86_400
    assert 0 < len(early["nodes"]["id"]) < len(whole["nodes"]["id"])
    assert set(early["nodes"]["id"]) <= set(whole["nodes"]["id"])
    assert whole["sources"] == ["git"]
    assert graph_map(team_store, source="git")["nodes"]["id"] == whole["nodes"]["id"]
    with pytest.raises(InputError):
        graph_map(team_store, source="slack")


def test_the_api_route_answers_every_role(api: Any) -> None:
    for who in ("ada", "carol", "root"):
        answer = api.client.get("/api/v1/graph", headers=api.as_(who))
        assert answer.status_code == 200, answer.text
        assert (answer.json()["nodes"]["size"] is None) == (who != "root")
    assert api.client.get("/api/v1/graph").status_code == 401
    bad = api.client.get("/api/v1/graph?source=nowhere", headers=api.as_("ada"))
    assert bad.status_code in (400, 422)
