"""``/api/v1/ingest``: upload a file (mbox, Perceval JSON lines, Mattermost JSON lines) and
ingest it as a background job; ``/api/v1/ingest/{job}`` shows its progress."""

from __future__ import annotations

import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from knotwork.api.auth import Caller, StoreDep
from knotwork.errors import InputError, KnotworkError, NotFoundError
from knotwork.ingest.base import Source
from knotwork.store.engine import Store
from knotwork.store.writer import ingest

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])
Kind = Literal["mbox", "perceval", "mattermost"]


@dataclass
class Job:
    """One ingest: state (queued, running, done, failed), records read, and the report."""

    id: str
    kind: str
    state: str = "queued"
    read: int = 0
    total: int | None = None
    report: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The job as plain data."""
        with self.lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "state": self.state,
                "read": self.read,
                "total": self.total,
                "report": self.report,
                "error": self.error,
            }


def make_source(kind: str, path: Path) -> Source:
    """The source that reads an uploaded file of ``kind``."""
    if kind == "mbox":
        from knotwork.ingest.mbox import MboxSource

        return MboxSource([path])
    if kind == "perceval":
        from knotwork.ingest.perceval import PercevalSource

        return PercevalSource(path)
    if kind == "mattermost":
        from knotwork.ingest.mattermost import MattermostSource

        return MattermostSource(path)
    raise InputError("unknown source kind", place=kind)


def _run(store: Store, job: Job, path: Path) -> None:
    def progress(read: int, total: int | None) -> None:
        with job.lock:
            job.read, job.total = read, total

    with job.lock:
        job.state = "running"
    try:
        report = ingest(store, make_source(job.kind, path), progress)
        with job.lock:
            job.report, job.state = report.to_dict(), "done"
    except KnotworkError as error:
        with job.lock:
            job.error, job.state = error.to_dict(), "failed"
    except Exception as error:  # a job never takes the server down
        with job.lock:
            job.error = {"error": type(error).__name__, "place": None, "reason": str(error)}
            job.state = "failed"
    finally:
        path.unlink(missing_ok=True)


@router.post("", status_code=202)
async def start(
    request: Request,
    store: StoreDep,
    caller: Caller,
    kind: Annotated[Kind, Query(description="What the uploaded body holds.")],
) -> dict[str, Any]:
    """Start ingesting the request body (the file itself) as a background job."""
    data = await request.body()
    if not data:
        raise InputError("the body is empty: send the file as the request body", place="body")
    suffix = ".mbox" if kind == "mbox" else ".jsonl"
    with tempfile.NamedTemporaryFile("wb", suffix=suffix, delete=False) as out:
        out.write(data)
    job = Job(uuid.uuid4().hex, kind)
    jobs: dict[str, Job] = request.app.state.jobs
    jobs[job.id] = job
    threading.Thread(target=_run, args=(store, job, Path(out.name)), daemon=True).start()
    return job.to_dict()


@router.get("/{job}")
def progress(request: Request, caller: Caller, job: str) -> dict[str, Any]:
    """The progress of an ingest job."""
    found: Job | None = request.app.state.jobs.get(job)
    if found is None:
        raise NotFoundError("no such job", place=job)
    return found.to_dict()
