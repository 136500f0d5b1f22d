"""``/api/v1/ingest``: upload a file (mbox, Perceval JSON lines, Mattermost JSON lines) and
ingest it as a background job in its own process (:mod:`knotwork.api.jobrunner`);
``/api/v1/ingest/{job}`` shows its progress, from the store, to every worker.

While the app runs, its views are kept up to date by a background thread
(:func:`knotwork.graph.serving.serve_views`), so reads never wait for what a job writes; a
progress that says the job ended first makes the views current, so the client that saw it end
sees its data."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Query, Request

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.jobrunner import JobRunner
from knotwork.api.limits import Limits
from knotwork.errors import InputError
from knotwork.graph.serving import serve_views, serving
from knotwork.services.warm import warm_reads
from knotwork.store.engine import Store
from knotwork.store.jobs import UNFINISHED, job_state
from knotwork.store.text import index_elsewhere

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])
Kind = Literal["mbox", "perceval", "mattermost"]


def install(app: FastAPI) -> None:
    """Give ``app`` its :class:`JobRunner` (``app.state.jobs``), whose running jobs are
    cancelled when the app shuts down, and serve its store's views in the background while
    it runs."""
    runner = JobRunner(app.state.store, key=app.state.key)
    app.state.jobs = runner
    inner: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: Any) -> AsyncIterator[Any]:
        limits: Limits = app.state.limits
        anyio.to_thread.current_default_thread_limiter().total_tokens = limits.threads
        views = serve_views(app.state.store, warm=warm_reads)
        index_elsewhere(True)  # texts are split into words in another process, not here
        try:
            async with inner(served) as state:
                try:
                    yield state
                finally:
                    await asyncio.to_thread(runner.stop)
        finally:
            await asyncio.to_thread(views.stop)
            await asyncio.to_thread(index_elsewhere, False)

    app.router.lifespan_context = lifespan


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
    runner: JobRunner = request.app.state.jobs
    path = await asyncio.to_thread(_saved, data, ".mbox" if kind == "mbox" else ".jsonl")
    job = await asyncio.to_thread(runner.start, kind, path)
    return await asyncio.to_thread(job_state, store, job)


def _saved(data: bytes, suffix: str) -> Path:
    with tempfile.NamedTemporaryFile(
        "wb", prefix="knotwork-job-", suffix=suffix, delete=False
    ) as out:
        out.write(data)
    return Path(out.name)


@router.get("/{job}")
async def progress(store: StoreDep, caller: Caller, job: str) -> dict[str, Any]:
    """The progress of an ingest job: state (queued, running, done, failed, cancelled),
    records read (of total, when known), and the report or error when it ended."""
    # not on a route thread (see Limits.threads): a job that ended waits for a round
    return await asyncio.to_thread(settled_state, store, job)


def settled_state(store: Store, job: str) -> dict[str, Any]:
    """The job's state; once it ended, the views serve what it wrote before this returns."""
    state = job_state(store, job)
    views = serving(store)
    if state["state"] not in UNFINISHED and views is not None:
        views.settle()
    return state
