"""Ingest jobs run in their own process at a lower priority, show their progress to every
worker (the state is in the store), end as failed when their process dies, and are cancelled
when the server shuts down."""

from __future__ import annotations

import functools
import os
import signal
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from apifactory import KEY
from knotwork.api import create_app
from knotwork.config import Settings
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.jobs import jobs, new_job, run_job

FINAL = ("done", "failed", "cancelled")


@functools.cache
def mailing_list(messages: int) -> bytes:
    """An mbox of a busy list: 40 people, threads of replies, patches touching paths."""
    out = []
    for i in range(messages):
        who = i * 7 % 40
        reply = f"In-Reply-To: <patch{i - 1}@lists.example.org>\n" if i % 5 else ""
        out.append(
            "From dev@lists.example.org Tue Mar  1 09:00:00 2022\n"
            f"From: Dev {who} <dev{who}@lists.example.org>\n"
            "To: dev@lists.example.org\n"
            f"Subject: [PATCH v{i % 3 + 1}] net/ice: fix queue setup {i // 5}\n"
            f"Message-ID: <patch{i}@lists.example.org>\n{reply}"
            f"Date: Tue, {i % 28 + 1:02d} Mar 2022 09:{i % 60:02d}:00 +0000\n\n"
            f"Reviewed the ring setup in drivers/net/ice/ice_rxtx.c ({i}).\n\n"
        )
    return "".join(out).encode()


def wait(client: TestClient, headers: dict[str, str], job: str, until: Any) -> dict[str, Any]:
    """Poll the job until ``until(state)`` holds (at most a minute)."""
    deadline = time.monotonic() + 60
    while True:
        state: dict[str, Any] = client.get(f"/api/v1/ingest/{job}", headers=headers).json()
        if until(state) or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def stored(store: Store, job: str) -> Any:
    with store.connect() as connection:
        return connection.execute(select(jobs).where(jobs.c.id == job)).one()


def test_a_job_runs_in_its_own_process_and_every_worker_sees_it(api: Any) -> None:
    other = Store.open(api.store.url)  # a second worker: its own app, store and runner
    second = TestClient(create_app(Settings(database_url=other.url), key=KEY, store=other))
    try:
        started = api.client.post(
            "/api/v1/ingest",
            params={"kind": "mbox"},
            content=mailing_list(300),
            headers=api.as_("root"),
        )
        assert started.status_code == 202 and started.json()["state"] in ("queued", "running")
        job = started.json()["id"]
        state = wait(second, api.as_("root"), job, lambda s: s["state"] in FINAL)
        assert state["state"] == "done", state
        assert state["read"] == state["report"]["read"] == 300
        assert state["report"]["ingested"] > 0 and state["error"] is None
        row = stored(api.store, job)
        assert row.pid is not None and row.pid != os.getpid()
        who_knows = second.get(
            "/api/v1/who-knows", params={"q": "ring setup"}, headers=api.as_("root")
        ).json()
        assert any(e["key"].endswith("@lists.example.org") for e in who_knows["items"])
        missing = second.get("/api/v1/ingest/nope", headers=api.as_("root"))
        assert missing.status_code == 404
    finally:
        other.close()


def test_a_running_job_shows_progress_runs_nicer_and_is_cancelled_at_shutdown(
    new_store: Any,
) -> None:
    from apifactory import make_api

    api = make_api(new_store())
    with api.client as client:  # entering and leaving runs the app's startup and shutdown
        job = client.post(
            "/api/v1/ingest",
            params={"kind": "mbox"},
            content=mailing_list(30_000),
            headers=api.as_("root"),
        ).json()["id"]
        running = wait(client, api.as_("root"), job, lambda s: s["read"] > 0 or s["state"] in FINAL)
        assert running["state"] == "running" and 0 < running["read"] < 30_000, running
        pid = stored(api.store, job).pid
        assert os.getpriority(os.PRIO_PROCESS, pid) > os.getpriority(os.PRIO_PROCESS, 0)
    state = stored(api.store, job)
    assert state.state == "cancelled", state
    # the job ends itself between two batches, or is killed when a batch outlasts the grace
    assert "stopped by SIGTERM" in state.error or "the server shut down" in state.error
    app: Any = client.app
    assert app.state.jobs.running() == []  # the runner holds no process any more
    try:
        os.kill(pid, 0)
        alive = Path(f"/proc/{pid}/status").read_text().find("zombie") < 0
    except ProcessLookupError:
        alive = False
    assert not alive


def test_a_job_whose_process_dies_is_failed(api: Any) -> None:
    job = api.client.post(
        "/api/v1/ingest",
        params={"kind": "mbox"},
        content=mailing_list(30_000),
        headers=api.as_("root"),
    ).json()["id"]
    wait(api.client, api.as_("root"), job, lambda s: s["state"] == "running" or s["state"] in FINAL)
    os.kill(stored(api.store, job).pid, signal.SIGKILL)
    state = wait(api.client, api.as_("root"), job, lambda s: s["state"] in FINAL)
    assert state["state"] == "failed" and "status -9" in state["error"]["reason"], state


def test_a_stopped_job_keeps_its_batches_and_deletes_its_file(store: Store, tmp_path: Path) -> None:
    upload = tmp_path / "list.mbox"
    upload.write_bytes(mailing_list(6000))  # more than one batch
    job = new_job(store, "mbox")
    assert run_job(store, job, "mbox", upload, stop=lambda: "enough") == "cancelled"
    row = stored(store, job)
    assert row.state == "cancelled" and "enough" in row.error and not upload.exists()
    with store.connect() as connection:
        kinds = select(func.count()).where(schema.nodes.c.kind == "message")
        kept = connection.execute(kinds).scalar()
    assert 0 < kept < 6000  # the first batch, written before the stop, and no more
    bad = tmp_path / "list.txt"
    bad.write_text("no mail here\n")
    assert run_job(store, new_job(store, "slack"), "slack", bad) == "failed"


def test_a_profile_counts_what_a_job_added(api: Any) -> None:
    ada = f"/api/v1/people/{api.ids['ada']}"
    before = api.client.get(ada, headers=api.as_("ada")).json()
    assert before == api.client.get(ada, headers=api.as_("ada")).json()  # kept, the same
    mails = mailing_list(3).replace(
        b"From: Dev 0 <dev0@lists.example.org>", b"From: ada@example.org"
    )
    job = api.client.post(
        "/api/v1/ingest", params={"kind": "mbox"}, content=mails, headers=api.as_("root")
    ).json()["id"]
    assert wait(api.client, api.as_("root"), job, lambda s: s["state"] in FINAL)["state"] == "done"
    after = api.client.get(ada, headers=api.as_("ada")).json()
    assert after["links"]["authored"] == before["links"]["authored"] + 1
    assert after["last_activity"] >= before["last_activity"]
