"""The graph page's large-map mode in Chromium (frontend/src/lib/moving.ts): while the map is
dragged, every frame moves the nodes, drawn at half resolution with the ties, labels and hovers
taken out of the page; the still frame after the drag brings all of it back, hover picking
included. The page is given a synthetic answer of more than 20,000 ties in place of the API's."""

from __future__ import annotations

import random
from typing import Any

import pytest

from webfactory import WebApp

#: A grid of people (no two overlap on the screen) and more ties than the page's "large" bound.
SIDE = 40
TIES = 21_000

#: The state of sigma's layers, read in the page.
LAYERS = """() => {
  const graph = document.querySelector('#graph');
  const layer = (id) => graph.querySelector('canvas.sigma-' + id);
  const shown = (id) => getComputedStyle(layer(id)).visibility === 'visible';
  return {
    width: layer('nodes').width,
    full: Math.floor(graph.offsetWidth * devicePixelRatio),
    edges: shown('edges'), labels: shown('labels'), hovers: shown('hoverNodes'),
    edgeLabels: getComputedStyle(layer('edgeLabels')).display !== 'none',
    camera: graph.dataset.camera,
  };
}"""

#: Resolves after the next two frames (the renders that the last input scheduled are done).
FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def large_map() -> dict[str, Any]:
    """A map answer as ``GET /api/v1/graph`` gives it: SIDE x SIDE people, TIES random ties."""
    people = SIDE * SIDE
    rng = random.Random(7)
    ties: set[tuple[int, int]] = set()
    while len(ties) < TIES:
        a, b = rng.randrange(people), rng.randrange(people)
        if a != b:
            ties.add((min(a, b), max(a, b)))
    ordered = sorted(ties)
    return {
        "as_of": 1_700_000_000,
        "span": None,
        "source": None,
        "sources": [],
        "k_min": 5,
        "admin": False,
        "me": 0,
        "nodes": {
            "id": [str(1000 + i) for i in range(people)],
            "name": [f"Person {i}" for i in range(people)],
            "x": [(i % SIDE) / SIDE for i in range(people)],
            "y": [(i // SIDE) / SIDE for i in range(people)],
            "group": [i % 3 for i in range(people)],
            "size": None,
        },
        "links": {"src": [a for a, _ in ordered], "dst": [b for _, b in ordered]},
        "groups": [],
        "hidden": {"small_groups": 0},
    }


@pytest.mark.browser
def test_a_dragged_large_map_moves_cheaply_then_comes_back_whole(
    web: WebApp, page_for: Any
) -> None:
    page = page_for("member")
    answer = large_map()
    page.route("**/api/v1/graph*", lambda route: route.fulfill(json=answer))
    page.goto(f"{web.url}/graph")
    page.wait_for_selector("#graph[data-ready='1']", timeout=30_000)
    assert page.locator("#graph").get_attribute("data-links") == str(TIES)
    still = page.evaluate(LAYERS)
    assert still["width"] == still["full"]
    assert still["edges"] and still["labels"] and still["hovers"]
    assert not still["edgeLabels"]  # never drawn on this page: never composited

    box = page.locator("#graph").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    cameras = []
    for step in range(1, 6):
        page.mouse.move(box["x"] + box["width"] / 2 + 15 * step, box["y"] + box["height"] / 2)
        page.evaluate(FRAMES)
        moving = page.evaluate(LAYERS)
        cameras.append(moving["camera"])
        assert moving["width"] == max(1, moving["full"] // 2)  # half resolution
        assert not moving["edges"] and not moving["labels"] and not moving["hovers"]
    assert len(set(cameras)) == len(cameras)  # every move moved the map
    page.mouse.up()

    page.wait_for_function(
        f"({LAYERS})().width === ({LAYERS})().full && ({LAYERS})().edges", timeout=10_000
    )
    after = page.evaluate(LAYERS)
    assert after["labels"] and after["hovers"]
    # the still frame drew the picking pass again: hovering a person names them (a GL point
    # is picked near its centre only: the spot is taken from sigma's own layer, inside the
    # container's border)
    target = SIDE * (SIDE // 2) + SIDE // 2
    spot = page.evaluate(
        "(node) => window.__graphNode(node, document.querySelector('#graph canvas.sigma-mouse')"
        ".getBoundingClientRect())",
        str(target),
    )
    page.mouse.move(spot["x"], spot["y"])
    page.wait_for_function(
        f"document.querySelector('#graph').dataset.hover === '{answer['nodes']['id'][target]}'"
    )
    assert page.locator("#graph-hover").inner_text() == f"Person {target}"
