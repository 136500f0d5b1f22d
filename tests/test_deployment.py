"""The PostgreSQL server deployment of docs/deployment.md, for real: ``knotwork db upgrade``,
then ``knotwork serve --workers 2`` as a separate process against a fresh PostgreSQL schema,
an ingest through the API and the same ingest from the CLI in another process at once, while
both workers answer reads; the digest must equal a single-process ingest of the same mail."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from conftest import UrlFactory

pytestmark = pytest.mark.postgres

SECRET = "deployment-test-secret"
T0 = 1_709_251_200  # 2024-03-01


def mailing_list(path: Path, threads: int = 400, replies: int = 4, seed: int = 5) -> Path:
    """An mbox of ``threads`` patch threads with replies among 30 people, mentioning files."""
    rng = np.random.default_rng(seed)
    people = [f"Dev {i} <dev{i}@example.org>" for i in range(30)]
    chunks = []
    for t in range(threads):
        root = f"<t{t}@example.org>"
        for r in range(replies + 1):
            when = T0 + t * 3600 + r * 600
            sender = people[int(rng.integers(len(people)))]
            stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(when))
            headers = [
                f"From dev@example.org {stamp}",
                f"From: {sender}",
                f"Subject: {'Re: ' if r else ''}[PATCH] net: fix case {t}",
                f"Date: {format_datetime(datetime.fromtimestamp(when, UTC))}",
                f"Message-ID: <t{t}r{r}@example.org>" if r else f"Message-ID: {root}",
                "List-Id: Net development <netdev.lists.example.org>",
            ]
            if r:
                headers += [f"In-Reply-To: {root}", f"References: {root}"]
            body = f"The change in drivers/net/m{int(rng.integers(20))}.c looks right.\n"
            chunks.append("\n".join(headers) + "\n\n" + body)
    path.write_text("\n".join(chunks), encoding="utf-8")
    return path


def knotwork(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """``knotwork ARGS --db URL`` in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "knotwork", *args, "--db", url],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(),
        check=False,
    )


def environment() -> dict[str, str]:
    return {**os.environ, "KNOTWORK_SECRET_KEY": SECRET}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def server(postgres_urls: UrlFactory) -> Iterator[tuple[str, int, str, int]]:
    """(API address, port, store URL, process id) of ``knotwork serve --workers 2`` on a fresh
    PostgreSQL schema, migrated first by ``knotwork db upgrade`` as docs/deployment.md says."""
    url = postgres_urls()
    upgraded = knotwork("db", "upgrade", url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    port, db = free_port(), ("--db", url)
    process = subprocess.Popen(
        [sys.executable, "-m", "knotwork", "serve", "--workers", "2", "--port", str(port), *db],
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start in 60 s"
            time.sleep(0.2)
        yield base, port, url, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the supervisor and its workers
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def workers(pid: int) -> list[int]:
    """The worker processes under the uvicorn supervisor ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # multiprocessing also starts a resource tracker: workers run spawn_main
            if int(stat[1]) == pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def serving_worker(connection: http.client.HTTPConnection, port: int, pids: list[int]) -> int:
    """The worker process that accepted ``connection`` (its socket's inode, from /proc)."""
    client_port = connection.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if int(local, 16) == port and int(remote, 16) == client_port:
            inode = fields[9]
    assert inode is not None, "the server side of the connection is not in /proc/net/tcp"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no worker holds socket {inode}")


def one_connection_per_worker(port: int, pids: list[int]) -> dict[int, http.client.HTTPConnection]:
    """Keep-alive connections until each worker has accepted one (the kernel picks)."""
    chosen: dict[int, http.client.HTTPConnection] = {}
    for _ in range(60):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/health")
        assert connection.getresponse().read() == b'{"status":"ok"}'
        worker = serving_worker(connection, port, pids)
        if worker in chosen:
            connection.close()
        else:
            chosen[worker] = connection
        if len(chosen) == len(pids):
            return chosen
    raise AssertionError(f"60 connections reached only the workers {sorted(chosen)}")


def test_two_workers_and_an_ingest_keep_the_digest(
    server: tuple[str, int, str, int], postgres_urls: UrlFactory, tmp_path: Path
) -> None:
    base, port, url, pid = server
    pids = workers(pid)
    assert len(pids) == 2
    mbox = mailing_list(tmp_path / "netdev.mbox")
    added = knotwork("users", "add", "root@example.org", "--role", "admin", "--json", url=url)
    assert added.returncode == 0, added.stderr
    auth = {"Authorization": f"Bearer {json.loads(added.stdout)['token']}"}

    answers: dict[int, Counter[int]] = {worker: Counter() for worker in pids}
    job_states: Counter[str] = Counter()
    stop = threading.Event()
    job: dict[str, Any] = {}

    def read(worker: int, connection: http.client.HTTPConnection) -> None:
        # each reader keeps its connection, so it reads from one known worker throughout
        while not stop.is_set():
            connection.request("GET", "/api/v1/top/people?limit=5", headers=auth)
            answer = connection.getresponse()
            answer.read()
            answers[worker][answer.status] += 1
            if "id" in job:
                connection.request("GET", f"/api/v1/ingest/{job['id']}", headers=auth)
                status = connection.getresponse()
                body = json.loads(status.read())
                job_states[body.get("state", f"http {status.status}")] += 1

    readers = [
        threading.Thread(target=read, args=item)
        for item in one_connection_per_worker(port, pids).items()
    ]
    for reader in readers:
        reader.start()
    try:
        cli = subprocess.Popen(
            [sys.executable, "-m", "knotwork", "ingest", "mbox", str(mbox), "--json", "--db", url],
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started = httpx.post(
            f"{base}/api/v1/ingest?kind=mbox", content=mbox.read_bytes(), headers=auth, timeout=30
        )
        assert started.status_code == 202, started.text
        job["id"] = started.json()["id"]
        out, err = cli.communicate(timeout=120)
        assert cli.returncode == 0, err
        deadline = time.monotonic() + 60
        while job_states["done"] + job_states["failed"] == 0:
            assert time.monotonic() < deadline, f"the API job did not finish: {job_states}"
            time.sleep(0.2)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert job_states["failed"] == 0 and not any(s.startswith("http") for s in job_states)
    # both workers answered every read while the two ingests wrote
    assert all(set(counts) == {200} for counts in answers.values()), answers
    report = json.loads(out)
    assert report["read"] == 2000 and report["rejected"] == 0

    reference = postgres_urls()
    alone = knotwork("ingest", "mbox", str(mbox), "--json", url=reference)
    assert alone.returncode == 0, alone.stderr
    digests = [knotwork("digest", url=u).stdout.strip() for u in (url, reference)]
    assert len(digests[0]) == 64 and digests[0] == digests[1]
