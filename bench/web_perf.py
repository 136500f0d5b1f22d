"""The web app measured in Chromium (Playwright): the graph page on 20,000 people and 200,000
ties, and the Ask page on the DPDK store.

    .venv/bin/knotwork ingest git /work/.mirror/DPDK+dpdk/repo --db sqlite:////tmp/dpdk.db
    .venv/bin/python bench/web_perf.py --dpdk-db sqlite:////tmp/dpdk.db

Each store is served by ``knotwork serve`` in a subprocess. It prints, with the machine load:

* **graph, first render**: a synthetic work graph (:mod:`knotwork.graph.synthetic`, loaded
  with :mod:`knotwork.store.bulk`; kept in ``bench/out/`` for the next run) sized so that its
  map holds at least 20,000 people and 200,000 ties. The server computes the map once (cold,
  printed apart); then, for a member and for an admin, the time from navigation start to
  sigma's first frame with the whole map, split into the API answer and the drawing
  (target <= 3 s);
* **graph, panning**: requestAnimationFrame deltas while a real mouse drags the map around for
  ``--pan-seconds``: trusted input events through the browser's input pipeline (Playwright's
  mouse, CDP ``Input.dispatchMouseEvent``) sent at a mouse's rate (125 Hz) without waiting for
  each to be handled, so that a move is waiting when a frame starts and the browser coalesces
  the rest as it does for a real mouse. It prints the median frame time (target <= 33 ms) and
  the 95th percentile of the frames that found the camera moved (the page writes its position
  into ``data-camera``; a frame that no move reached in time draws nothing and is short, so it
  is left out), the same over all frames of the drag, the CPU time the GPU process
  (SwiftShader) and the renderer spent per frame, and the browser's floor measured in the same
  run: a page of four WebGL canvases cleared every frame. The run fails unless the camera moved
  in at least a quarter of the frames;
* **search**: the time from navigation start to the Ask page's results on the DPDK store, per
  query, after one warm-up query (target <= 500 ms), and the first (cold) query apart.

Headless Chromium here draws WebGL with SwiftShader (on the CPU), so frame times are an upper
bound of what a browser with a GPU shows.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from knotwork.store.accounts import add_user
from knotwork.store.engine import Store

KEY = "bench-secret"
OUT = Path(__file__).resolve().parent / "out"
CHROMIUM = os.environ.get("KNOTWORK_CHROMIUM", "/usr/bin/chromium")
QUERIES = [
    "drivers/net/ice/",
    "lib/eal/",
    "mempool",
    "vhost",
    "drivers/net/mlx5/",
    "crypto",
    "ring",
]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def synthetic_store(path: Path, links: int, people: int) -> str:
    """A SQLite store of a synthetic graph at ``path`` (made once, then reused)."""
    url = f"sqlite:///{path}"
    if not path.exists():
        from knotwork.graph.synthetic import generate
        from knotwork.store.bulk import load as bulk_load

        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        store = Store.open(url)
        bulk_load(store, generate(links, people=people, seed=1))
        store.close()
        took = time.perf_counter() - started
        print(f"built {path} ({links} links, {people} people) in {took:.0f} s")
    return url


@contextmanager
def serve(url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """``knotwork serve`` over a copy of the store at ``url``, with an admin and a member."""
    folder = Path(tempfile.mkdtemp(prefix="web-perf-"))
    source = Path(url.removeprefix("sqlite:///"))
    copy = folder / source.name
    shutil.copy(source, copy)
    copied = f"sqlite:///{copy}"
    store = Store.open(copied)
    with store.connect() as connection:
        from sqlalchemy import text

        person = connection.execute(
            text("SELECT key FROM nodes WHERE kind = 'person' ORDER BY id LIMIT 1")
        ).scalar_one()
    tokens = {
        "admin": add_user(store, "bench-admin", "admin", key=KEY.encode()),
        "member": add_user(store, str(person), "member", key=KEY.encode()),
    }
    store.close()
    port = free_port()
    env = {**os.environ, "KNOTWORK_SECRET_KEY": KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "knotwork", "serve", "--port", str(port), "--db", copied],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("knotwork serve did not start")
        yield base, tokens
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


async def page_as(browser: Any, base: str, token: str) -> Any:
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    await context.add_cookies([{"name": "knotwork_token", "value": token, "url": base}])
    return await context.new_page()


#: Starts recording requestAnimationFrame deltas (ms) and, per frame, whether the camera is
#: somewhere new (the page writes its position into ``data-camera``); ``window.__panStop()``
#: ends the recording and returns it.
RECORD = """() => {
  const graph = document.querySelector('#graph');
  const frames = [], moved = [];
  let seen = graph.dataset.camera, last = performance.now(), stop = false;
  const tick = (now) => {
    frames.push(now - last); last = now;
    moved.push(graph.dataset.camera !== seen); seen = graph.dataset.camera;
    if (!stop) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__panStop = () => { stop = true; return {frames, moved}; };
}"""

#: A mouse's report rate (Hz): the drag sends its moves this often, whatever the frame rate.
MOUSE_HZ = 125

#: The share of the drag's frames that must find the camera moved. On this loaded 2-core machine
#: a move sometimes reaches the page a frame late (up to every other frame once frames take
#: 16.7 ms); a frame without one draws nothing and is short, so it is left out of the figure that
#: is checked against the target.
MOVED_SHARE = 0.25

#: The floor of this browser: four full-size WebGL canvases cleared every frame, no drawing.
BASELINE = """<html><body style="margin:0"><div id="c"></div><script>
const gls = [];
for (let i = 0; i < 4; i++) {
  const c = document.createElement('canvas'); c.width = 1100; c.height = 630;
  c.style.position = 'absolute'; document.getElementById('c').appendChild(c);
  gls.push(c.getContext('webgl2'));
}
window.frames = (seconds) => new Promise((done) => {
  const frames = []; let last = performance.now(); const start = last;
  const tick = (now) => {
    frames.push(now - last); last = now;
    for (const gl of gls) {
      gl.clearColor(Math.random(), .5, .5, 1); gl.clear(gl.COLOR_BUFFER_BIT);
    }
    if (now - start < seconds * 1000) requestAnimationFrame(tick); else done(frames.slice(2));
  };
  requestAnimationFrame(tick);
});
</script></body></html>"""


def frame_stats(deltas: list[float]) -> str:
    ordered = sorted(deltas)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (
        f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms over {len(ordered)} frames"
    )


def browser_cpu() -> dict[str, float]:
    """CPU seconds (user + system) so far of this script's Chromium processes, by kind."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    seconds: dict[str, float] = {}
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if "--type=gpu-process" in command:
            kind = "GPU process"
        elif "--type=renderer" in command:
            kind = "renderer"
        else:
            continue
        ticks = int(fields[11]) + int(fields[12])
        seconds[kind] = seconds.get(kind, 0.0) + ticks / os.sysconf("SC_CLK_TCK")
    return seconds


async def drag(page: Any, seconds: float) -> tuple[list[float], list[bool]]:
    """Drags the map with the mouse for ``seconds`` (a circle-ish path around the centre).

    Returns the requestAnimationFrame deltas (ms) from the press to the last move, less the
    first two frames, and for each whether its frame found the camera moved.
    """
    box = await page.locator("#graph canvas.sigma-mouse").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(cx, cy)
    await page.evaluate(RECORD)
    await page.mouse.down()
    clock = asyncio.get_running_loop()
    start = clock.time()
    sent = []
    while (t := clock.time() - start) < seconds:
        x, y = cx + 200 * math.sin(t * 3), cy + 60 * math.cos(t * 3)
        # not awaited one by one: a real mouse does not wait for the page either
        sent.append(asyncio.ensure_future(page.mouse.move(x, y)))
        await asyncio.sleep(1 / MOUSE_HZ)
    await asyncio.gather(*sent)
    recorded = await page.evaluate("() => window.__panStop()")
    await page.mouse.up()
    frames, moved = recorded["frames"][2:], recorded["moved"][2:]
    return frames, moved


async def graph_bench(browser: Any, url: str, pan_seconds: float) -> None:
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    await page.set_content(BASELINE)
    deltas = await page.evaluate("(s) => window.frames(s)", pan_seconds)
    print(f"baseline (4 WebGL canvases cleared per frame): {frame_stats(deltas)}  [{load()}]")
    await page.close()
    with serve(url) as (base, tokens):
        started = time.perf_counter()
        for _ in range(60):  # past the API's 30 s limit the computation goes on: ask again
            response = httpx.get(
                f"{base}/api/v1/graph",
                headers={"Authorization": f"Bearer {tokens['admin']}"},
                timeout=600,
            )
            if response.status_code != 504:
                break
        response.raise_for_status()
        answer = response.json()
        cold = time.perf_counter() - started
        n, m = len(answer["nodes"]["id"]), len(answer["links"]["src"])
        print(f"graph: {n} people, {m} ties; server's first map (cold) {cold:.1f} s  [{load()}]")
        for who in ("member", "admin"):
            page = await page_as(browser, base, tokens[who])
            await page.goto(f"{base}/graph")
            await page.wait_for_selector("#graph[data-ready='1']", timeout=120_000)
            times = await page.evaluate("() => window.__graphTimes")
            shown = await page.locator("#graph").get_attribute("data-nodes")
            print(
                f"graph first render ({who}): {times['total'] / 1000:.2f} s after navigation "
                f"(API answer {times['fetch'] / 1000:.2f} s, graph + first frame "
                f"{times['render'] / 1000:.2f} s; {shown} nodes) target <= 3 s  [{load()}]"
            )
            if who == "member":
                await page.wait_for_timeout(500)
                before = browser_cpu()
                deltas, moved = await drag(page, pan_seconds)
                after = browser_cpu()
                panned = [delta for delta, move in zip(deltas, moved, strict=True) if move]
                if len(panned) < MOVED_SHARE * len(deltas):
                    raise RuntimeError(
                        f"the drag moved the camera in {len(panned)} of {len(deltas)} frames only"
                    )
                cpu = ", ".join(
                    f"{kind} {1000 * (after[kind] - before.get(kind, 0.0)) / len(deltas):.0f} ms"
                    for kind in sorted(after)
                )
                print(
                    f"graph panning: frames that moved the camera: {frame_stats(panned)}; "
                    f"all frames of the drag: {frame_stats(deltas)}; CPU per frame: {cpu}; "
                    f"target median <= 33 ms  [{load()}]"
                )
            await page.context.close()


async def search_bench(browser: Any, url: str) -> None:
    with serve(url) as (base, tokens):
        started = time.perf_counter()
        for _ in range(60):  # the first question builds the index, maybe past the 30 s limit
            response = httpx.get(
                f"{base}/api/v1/who-knows",
                params={"q": QUERIES[-1]},
                headers={"Authorization": f"Bearer {tokens['member']}"},
                timeout=600,
            )
            if response.status_code != 504:
                break
        response.raise_for_status()
        cold = time.perf_counter() - started
        print(f"search: the server's first question (cold index) {cold:.1f} s  [{load()}]")
        page = await page_as(browser, base, tokens["member"])
        timings = []
        for n, query in enumerate([QUERIES[0], *QUERIES]):
            await page.goto(f"{base}/ask?q={query}")
            await page.wait_for_selector("section.results")
            took = await page.evaluate(
                "() => { const t = performance.getEntriesByType('navigation')[0];"
                " return t.domContentLoadedEventEnd; }"
            )
            count = await page.locator("li.expert").count()
            if n == 0:
                print(f"search (first page): {took:.0f} ms for {query!r}  [{load()}]")
            else:
                timings.append(took)
                print(f"search {query!r}: {took:.0f} ms to results ({count} people)")
        print(
            f"search: median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms "
            f"target <= 500 ms  [{load()}]"
        )


async def measure(args: argparse.Namespace, graph_url: str | None) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
        )
        print(f"Chromium {browser.version}, {os.cpu_count()} CPUs  [{load()}]")
        if graph_url is not None:
            await graph_bench(browser, graph_url, args.pan_seconds)
        if args.dpdk_db:
            await search_bench(browser, args.dpdk_db)
        else:
            print("search: skipped (give --dpdk-db)")
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=1_400_000, help="synthetic graph's links")
    parser.add_argument("--people", type=int, default=23_000, help="synthetic graph's people")
    parser.add_argument("--graph-db", default=None, help="store for the graph page (SQLite)")
    parser.add_argument("--dpdk-db", default=None, help="DPDK store for the search (SQLite)")
    parser.add_argument("--pan-seconds", type=float, default=4.0)
    parser.add_argument("--no-graph", action="store_true", help="measure the search only")
    args = parser.parse_args()
    graph_url = None
    if not args.no_graph:
        graph_url = args.graph_db or synthetic_store(
            OUT / f"web-graph-{args.links}-{args.people}.db", args.links, args.people
        )
    asyncio.run(measure(args, graph_url))


if __name__ == "__main__":
    main()
