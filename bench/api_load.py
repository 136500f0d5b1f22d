"""Load on the REST API: ``knotwork serve`` in a subprocess, driven open-loop (constant arrival
rate, latency measured from each request's scheduled time, as wrk2 does) from this process.

    .venv/bin/knotwork ingest git /work/.mirror/DPDK+dpdk/repo --db sqlite:////tmp/dpdk-api.db
    .venv/bin/python bench/api_load.py --db sqlite:////tmp/dpdk-api.db

Prints, with the machine load: p50/p99 per class of read at 20 requests/s (targets: who-knows
p99 <= 300 ms, rankings/profile p99 <= 150 ms, 0 errors), the saturation rate (highest tried
rate whose mixed-read p99 <= 1 s without errors) and the read p99 while an ingest job runs,
next to the idle p99 measured in the same run (target: <= 2x).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage

import httpx

from knotwork.store.accounts import add_user
from knotwork.store.engine import Store

KEY = "bench-secret"
QUERIES = ["drivers/net/ice/", "lib/eal/", "mempool", "vhost", "net/mlx5", "crypto", "ring"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def drive(
    client: httpx.AsyncClient, rate: float, seconds: float, plan: list[tuple[str, str]]
) -> dict[str, list[float]]:
    """Send ``rate`` requests/s for ``seconds``; latencies (s) per class, 'errors' counted."""
    results: dict[str, list[float]] = {"errors": []}
    start = time.perf_counter() + 0.05

    async def one(at: float, kind: str, url: str) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        try:
            response = await client.get(url)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        elapsed = time.perf_counter() - at
        results.setdefault(kind, []).append(elapsed)
        if not ok:
            results["errors"].append(elapsed)

    count = int(rate * seconds)
    tasks = [asyncio.create_task(one(start + i / rate, *plan[i % len(plan)])) for i in range(count)]
    await asyncio.gather(*tasks)
    return results


def report(title: str, results: dict[str, list[float]]) -> float:
    everything = [v for k, vs in results.items() if k != "errors" for v in vs]
    errors = len(results["errors"])
    load = os.getloadavg()[0]
    print(f"{title}: {len(everything)} requests, {errors} errors, load {load:.1f}")
    for kind, values in sorted(results.items()):
        if kind != "errors" and values:
            p50, p99 = 1000 * percentile(values, 0.5), 1000 * percentile(values, 0.99)
            print(f"  {kind:<10} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    return percentile(everything, 0.99)


def big_mbox(messages: int) -> bytes:
    out = []
    for i in range(messages):
        m = EmailMessage()
        m["From"] = f"Person {i % 300} <p{i % 300}@bench.example.org>"
        m["To"] = "dev@bench.example.org"
        m["Subject"] = f"[PATCH] bench: topic {i % 50} part {i}"
        m["Message-ID"] = f"<bench{i}@bench.example.org>"
        if i > 0 and i % 3:
            m["In-Reply-To"] = f"<bench{i - 1}@bench.example.org>"
        m["Date"] = "Mon, 01 Jun 2020 10:00:00 +0000"
        m.set_content(f"message body {i} about drivers/net/ice and mempool\n")
        out.append(b"From bench@example.org Mon Jun  1 10:00:00 2020\n" + m.as_bytes() + b"\n")
    return b"".join(out)


async def main(args: argparse.Namespace) -> None:
    store = Store.open(args.db)
    token = add_user(store, "bench-admin@example.org", "admin", key=KEY.encode())
    store.close()
    port = free_port()
    env = {**os.environ, "KNOTWORK_SECRET_KEY": KEY, "KNOTWORK_DATABASE_URL": args.db}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "knotwork",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            base_url=base, headers=headers, timeout=30.0, limits=httpx.Limits(max_connections=200)
        ) as client:
            for _ in range(200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            started = time.perf_counter()
            top = (await client.get("/api/v1/top/people", params={"limit": 50})).json()["items"]
            for q in QUERIES:  # warm the views and indexes, as a running server would be
                await client.get("/api/v1/who-knows", params={"q": q})
            print(f"warm-up {time.perf_counter() - started:.1f} s, load {os.getloadavg()[0]:.1f}")
            rng = random.Random(1)
            plan: list[tuple[str, str]] = []
            for i in range(400):
                roll = i % 4
                if roll in (0, 1):
                    plan.append(("who-knows", f"/api/v1/who-knows?q={rng.choice(QUERIES)}"))
                elif roll == 2:
                    plan.append(
                        ("rankings", rng.choice(["/api/v1/top/people", "/api/v1/top/items"]))
                    )
                else:
                    plan.append(("profile", f"/api/v1/people/{rng.choice(top)['id']}"))
            idle = report(
                f"idle at {args.rate:g}/s", await drive(client, args.rate, args.seconds, plan)
            )
            saturation = 0.0
            for rate in args.saturation:
                results = await drive(client, rate, args.step_seconds, plan)
                p99 = report(f"mixed at {rate:g}/s", results)
                if p99 <= 1.0 and not results["errors"]:
                    saturation = rate
                else:
                    break
            print(f"saturation (p99 <= 1 s, no errors): {saturation:g} requests/s")
            job = (
                await client.post(
                    "/api/v1/ingest", params={"kind": "mbox"}, content=big_mbox(args.messages)
                )
            ).json()
            during = report(
                f"during ingest at {args.rate:g}/s",
                await drive(client, args.rate, args.seconds, plan),
            )
            state = (await client.get(f"/api/v1/ingest/{job['id']}")).json()
            print(f"ingest job: {state['state']}, read {state['read']}")
            print(f"read p99 during ingest / idle: {during / idle:.2f}x (target <= 2x)")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite:////tmp/dpdk-api.db")
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--saturation", type=float, nargs="*", default=[20, 40, 60, 100, 150])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=1)
    os.chdir(tempfile.gettempdir())
    asyncio.run(main(parser.parse_args()))
