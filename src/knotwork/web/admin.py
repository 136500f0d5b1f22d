"""``/admin``: ingest with live progress, identities to merge or split, users and tokens.

Admins only (the rules of the API routes each form stands for). An ingest (an uploaded file or
a file on the server) runs as a background job of the API's :class:`~knotwork.api.jobrunner.
JobRunner`, in a process of its own; ``/admin/jobs/{job}`` shows its progress from the store
and reloads itself every second until the job ends (``<meta http-equiv="refresh">``: no
script). A new token is shown once, on the page that answers the form.

>>> from knotwork.web.admin import percent
>>> percent({"state": "running", "read": 30, "total": 120}), percent({"state": "done"})
(25, 100)
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, UploadFile
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from knotwork.api.identities import merges, splits, suggestions
from knotwork.api.jobrunner import JobRunner
from knotwork.api.jobs import settled_state
from knotwork.api.models import NewUser, Pair, Person
from knotwork.api.users import add, remove, users
from knotwork.errors import KnotworkError
from knotwork.store.identity import active_merges
from knotwork.store.jobs import UNFINISHED
from knotwork.web.market import problem_of
from knotwork.web.people import names
from knotwork.web.session import page_account
from knotwork.web.templating import render

router = APIRouter(include_in_schema=False)

Kind = Literal["mbox", "perceval", "mattermost"]
#: The file suffix each kind of upload is saved with.
SUFFIX = {"mbox": ".mbox", "perceval": ".jsonl", "mattermost": ".jsonl"}
#: Suggested merges listed at once.
SUGGESTIONS = 20
#: Seconds between two reloads of a running job's page.
REFRESH = 1


def percent(job: dict[str, Any]) -> int | None:
    """How far ``job`` is, in percent (None while the total is unknown)."""
    if job["state"] == "done":
        return 100
    total = job.get("total")
    if not total:
        return None
    return max(0, min(99, int(100 * int(job.get("read") or 0) / int(total))))


def _admin(
    request: Request,
    *,
    problem: str | None = None,
    token: dict[str, Any] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    account = page_account(request, "GET", "/api/v1/users")
    store = request.app.state.store
    found = suggestions(store, account, limit=SUGGESTIONS, offset=0)["items"]
    with store.connect() as connection:
        merged = active_merges(connection)
    who = names(store, [*merged, *merged.values()])
    return render(
        request,
        "admin.html",
        status=status,
        users=users(store, account),
        suggestions=found,
        merged=sorted(merged.items(), key=lambda m: who.get(m[0], "")),
        people=who,
        problem=problem,
        token=token,
        notice=notice,
        kinds=list(SUFFIX),
    )


@router.get("/admin")
def admin_page(request: Request) -> Response:
    """Ingest, identities, users and tokens."""
    return _admin(request)


def _start(request: Request, kind: str, path: Path) -> Response:
    runner: JobRunner = request.app.state.jobs
    job = runner.start(kind, path)
    return RedirectResponse(f"/admin/jobs/{job}", status_code=303)


def _copy(source: Any, kind: str) -> Path:
    with tempfile.NamedTemporaryFile(
        "wb", prefix="knotwork-job-", suffix=SUFFIX[kind], delete=False
    ) as out:
        shutil.copyfileobj(source, out, 1 << 20)
    return Path(out.name)


@router.post("/admin/ingest")
async def ingest_upload(
    request: Request, kind: Annotated[Kind, Form()], file: UploadFile
) -> Response:
    """Ingest an uploaded file as a background job; then watch its progress."""
    page_account(request, "POST", "/api/v1/ingest")
    path = await asyncio.to_thread(_copy, file.file, kind)
    if path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        return await asyncio.to_thread(
            _admin, request, problem="The uploaded file is empty.", status=422
        )
    return await asyncio.to_thread(_start, request, kind, path)


@router.post("/admin/ingest/path")
def ingest_path(
    request: Request,
    kind: Annotated[Kind, Form()],
    path: Annotated[str, Form(min_length=1, max_length=4096)],
) -> Response:
    """Ingest a file that is on the server (a copy: the job deletes its file when it ends)."""
    page_account(request, "POST", "/api/v1/ingest")
    source = Path(path.strip()).expanduser()
    if not source.is_file():
        return _admin(request, problem=f"{source}: no such file on the server", status=422)
    with source.open("rb") as data:
        copy = _copy(data, kind)
    return _start(request, kind, copy)


@router.get("/admin/jobs/{job}")
def job_page(request: Request, job: str) -> Response:
    """An ingest job's progress; the page reloads itself until the job ends."""
    page_account(request, "GET", "/api/v1/ingest/{job}")
    found = settled_state(request.app.state.store, job)
    running = found["state"] in UNFINISHED
    return render(
        request, "job.html", job=found, percent=percent(found), refresh=REFRESH if running else 0
    )


@router.post("/admin/identities/merge")
def merge_page(
    request: Request,
    kept: Annotated[str, Form(max_length=320)],
    merged: Annotated[str, Form(max_length=320)],
) -> Response:
    """Fold the person ``merged`` into ``kept``."""
    account = page_account(request, "POST", "/api/v1/identities/merges")
    store = request.app.state.store
    try:
        merges(store, account, Pair(kept=kept.strip(), merged=merged.strip()))
    except (ValidationError, KnotworkError) as error:
        return _admin(request, problem=problem_of(error), status=422)
    return RedirectResponse("/admin#identities", status_code=303)


@router.post("/admin/identities/split")
def split_page(request: Request, person: Annotated[str, Form(max_length=320)]) -> Response:
    """Undo the merge of ``person``."""
    account = page_account(request, "POST", "/api/v1/identities/splits")
    store = request.app.state.store
    try:
        splits(store, account, Person(person=person.strip()))
    except (ValidationError, KnotworkError) as error:
        return _admin(request, problem=problem_of(error), status=422)
    return RedirectResponse("/admin#identities", status_code=303)


@router.post("/admin/users")
def add_user_page(
    request: Request,
    alias: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(max_length=20)],
    days: Annotated[float, Form(gt=0, le=3650)] = 90.0,
) -> Response:
    """Add a user (or give one a new token): the token is shown on this answer only."""
    account = page_account(request, "POST", "/api/v1/users")
    store = request.app.state.store
    try:
        user = NewUser.model_validate({"alias": alias.strip(), "role": role, "days": days})
        made = add(request, store, account, user)
    except (ValidationError, KnotworkError) as error:
        return _admin(request, problem=problem_of(error), status=422)
    response = _admin(request, token=made, status=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/users/revoke")
def revoke_page(request: Request, alias: Annotated[str, Form(max_length=320)]) -> Response:
    """Revoke every token of ``alias``."""
    account = page_account(request, "DELETE", "/api/v1/users/{alias}")
    store = request.app.state.store
    try:
        done = remove(store, account, alias)
    except KnotworkError as error:
        return _admin(request, problem=problem_of(error), status=422)
    notice = f"Revoked {done['revoked']} token(s) of {alias}."
    return _admin(request, notice=notice)


__all__ = ["REFRESH", "SUFFIX", "percent", "router"]
