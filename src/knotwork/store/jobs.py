"""Ingest jobs of the API: their state and progress, kept in the store (migration ``0006``),
and the job itself (:func:`run_job`), run in a process of its own.

The API (:mod:`knotwork.api.jobrunner`) starts each job as ``python -m knotwork.store.jobs
JOB KIND FILE PARENT`` at a lower OS priority; the job writes its progress here, and every API
worker reads it from here, so all workers see the same job. The job stops (``cancelled``) on
SIGTERM or when the server process that started it is gone.

A job is ``queued``, then ``running``, then ``done``, ``failed`` or ``cancelled``; ``read``
counts the records read so far (of ``total`` when the source knows it), ``report`` is the
ingest report of a finished job and ``error`` the error of a failed or cancelled one.

>>> from knotwork.store.engine import Store
>>> store = Store.open("sqlite://")
>>> job = new_job(store, "mbox")
>>> update_job(store, job, state="running", read=10, total=40)
>>> (s := job_state(store, job))["state"], s["read"], s["total"]
('running', 10, 40)
>>> finish_job(store, job, "cancelled", error={"error": "Cancelled", "reason": "shutdown"})
True
>>> finish_job(store, job, "done", report={"read": 40})   # a finished job stays finished
False
>>> job_state(store, job)["state"]
'cancelled'
>>> job_state(store, "nope")
Traceback (most recent call last):
...
knotwork.errors.NotFoundError: nope: no such job
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, delete, select

from knotwork.errors import InputError, KnotworkError, NotFoundError
from knotwork.ingest.base import Source
from knotwork.store.engine import Store
from knotwork.store.priority import lower_priority

#: The states of a job, in the order they are reached; the last three are final.
STATES = ("queued", "running", "done", "failed", "cancelled")
UNFINISHED = ("queued", "running")

#: How much lower than the server a job process runs (``os.nice`` increment): the lowest
#: priority, below the server's background work (its views and text indexes, at 10), so that
#: the work that readers wait for comes first (measured with ``bench/api_load.py``).
NICE = 19

#: Seconds between two progress writes of a running job.
PROGRESS_EVERY = 0.25

#: The source kinds a job can read.
KINDS = ("mbox", "perceval", "mattermost")

#: The table (own metadata: it is API bookkeeping, not part of the graph's schema).
jobs = Table(
    "jobs",
    MetaData(),
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("read", BigInteger, nullable=False, default=0),
    Column("total", BigInteger),
    Column("report", Text),
    Column("error", Text),
    Column("pid", Integer),
    Column("created", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
)


def new_job(store: Store, kind: str, *, now: int | None = None) -> str:
    """Record a new, queued job of source ``kind``; returns its id."""
    moment = int(time.time()) if now is None else now
    job = uuid.uuid4().hex
    with store.begin() as connection:
        connection.execute(
            jobs.insert().values(
                id=job, kind=kind, state="queued", read=0, created=moment, updated=moment
            )
        )
    return job


def _values(values: dict[str, Any]) -> dict[str, Any]:
    if "state" in values and values["state"] not in STATES:
        raise InputError(f"unknown job state (one of {', '.join(STATES)})", place=values["state"])
    encoded = ("report", "error")
    out = {k: json.dumps(v) if k in encoded and v is not None else v for k, v in values.items()}
    out["updated"] = int(time.time())
    return out


def update_job(store: Store, job: str, **values: Any) -> None:
    """Set ``values`` (state, read, total, pid, report, error) of an unfinished ``job``."""
    with store.begin() as connection:
        connection.execute(
            jobs.update()
            .where(jobs.c.id == job, jobs.c.state.in_(UNFINISHED))
            .values(**_values(values))
        )


def finish_job(store: Store, job: str, state: str, **values: Any) -> bool:
    """End ``job`` in the final ``state`` (with its report or error) unless it already ended;
    whether this call ended it."""
    if state in UNFINISHED:
        raise InputError("not a final job state", place=state)
    with store.begin() as connection:
        changed = connection.execute(
            jobs.update()
            .where(jobs.c.id == job, jobs.c.state.in_(UNFINISHED))
            .values(**_values({"state": state, **values}))
        ).rowcount
    return bool(changed)


def job_state(store: Store, job: str) -> dict[str, Any]:
    """The job as plain data: id, kind, state, read, total, report, error."""
    if len(job) != 32 or not all(c in "0123456789abcdef" for c in job):  # not an id we make
        raise NotFoundError("no such job", place=job[:40])
    with store.connect() as connection:
        row = connection.execute(select(jobs).where(jobs.c.id == job)).one_or_none()
    if row is None:
        raise NotFoundError("no such job", place=job)
    return {
        "id": row.id,
        "kind": row.kind,
        "state": row.state,
        "read": int(row.read),
        "total": None if row.total is None else int(row.total),
        "report": None if row.report is None else json.loads(row.report),
        "error": None if row.error is None else json.loads(row.error),
    }


def prune_jobs(store: Store, *, older_than_days: float = 7.0, now: int | None = None) -> int:
    """Forget finished jobs (and their reports) last changed before the window; how many."""
    moment = int(time.time()) if now is None else now
    cutoff = moment - int(older_than_days * 86_400)
    with store.begin() as connection:
        gone = connection.execute(
            delete(jobs).where(jobs.c.updated < cutoff, jobs.c.state.not_in(UNFINISHED))
        ).rowcount
    return int(gone)


class JobCancelled(KnotworkError):
    """A job stopped before its end: its server shut down or went away."""


def make_source(kind: str, path: Path) -> Source:
    """The source that reads an uploaded file of ``kind`` (one of :data:`KINDS`)."""
    if kind == "mbox":
        from knotwork.ingest.mbox import MboxSource

        return MboxSource([path])
    if kind == "perceval":
        from knotwork.ingest.perceval import PercevalSource

        return PercevalSource(path)
    if kind == "mattermost":
        from knotwork.ingest.mattermost import MattermostSource

        return MattermostSource(path)
    raise InputError(f"unknown source kind (one of {', '.join(KINDS)})", place=kind)


def run_job(
    store: Store,
    job: str,
    kind: str,
    path: Path,
    *,
    stop: Callable[[], str | None] = lambda: None,
) -> str:
    """Ingest the file ``path`` of ``kind`` into ``store`` as ``job``, writing progress to the
    jobs table; the file is deleted at the end. ``stop`` is asked after each batch: a reason
    ends the job as ``cancelled`` (the batches written stay; ingesting the file again adds
    only the rest, as records are idempotent).
    Returns the final state; no error escapes (it is the job's ``error``).
    """
    from knotwork.store.writer import ingest

    last = 0.0

    def progress(read: int, total: int | None) -> None:
        nonlocal last
        reason = stop()
        if reason is not None:
            raise JobCancelled(reason, place=job)
        if time.monotonic() - last >= PROGRESS_EVERY:
            update_job(store, job, read=read, total=total)
            last = time.monotonic()

    state = "failed"
    try:
        update_job(store, job, state="running", pid=os.getpid())
        report = ingest(store, make_source(kind, path), progress)
        state, values = "done", {"read": report.read, "report": report.to_dict()}
    except JobCancelled as error:
        state, values = "cancelled", {"error": error.to_dict()}
    except KnotworkError as error:
        values = {"error": error.to_dict()}
    except Exception as error:  # a job always ends with a state, whatever went wrong
        values = {"error": {"error": type(error).__name__, "place": job, "reason": str(error)}}
    finally:
        path.unlink(missing_ok=True)
    finish_job(store, job, state, **values)
    return state


def main(argv: list[str] | None = None) -> int:
    """The job process: ``JOB KIND FILE PARENT`` (the store from ``KNOTWORK_DATABASE_URL``).

    It lowers its priority by :data:`NICE` and stops between two batches after a SIGTERM or
    when the process ``PARENT`` (the server) is gone. The exit status is 0 when the job is done.
    """
    job, kind, path, parent = argv if argv is not None else sys.argv[1:]
    lower_priority(NICE)
    signalled: list[str] = []
    signal.signal(signal.SIGTERM, lambda signum, _: signalled.append(signal.Signals(signum).name))

    def stop() -> str | None:
        if signalled:
            return f"stopped by {signalled[0]}"
        return "the server that started the job is gone" if os.getppid() != int(parent) else None

    store = Store.open(os.environ.get("KNOTWORK_DATABASE_URL", ""), upgrade=False)
    try:
        state = run_job(store, job, kind, Path(path), stop=stop)
    finally:
        store.close()
    return 0 if state == "done" else 1


if __name__ == "__main__":
    raise SystemExit(main())
