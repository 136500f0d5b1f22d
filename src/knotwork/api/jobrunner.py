"""The API's ingest jobs, each in a process of its own: the server's reads never wait for one.

:class:`JobRunner` starts ``python -m knotwork.store.jobs`` per job (lower OS priority, see
:func:`knotwork.store.jobs.main`), reaps it, marks it ``failed`` when its process died without
a result, and at shutdown stops the jobs still running (``cancelled``). Job state lives in the
store (:mod:`knotwork.store.jobs`), so every worker sees every job. A store in memory has no
file another process could open: there the job runs in a thread of the server.

>>> from sqlalchemy.exc import SQLAlchemyError

from knotwork.errors import KnotworkError
from knotwork.store.engine import Store
>>> runner = JobRunner(Store.open("sqlite://"), key=b"k")
>>> runner.separate
False
>>> runner.stop()
[]
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from knotwork.errors import KnotworkError
from knotwork.store.engine import Store
from knotwork.store.jobs import NICE, finish_job, new_job, prune_jobs, run_job
from knotwork.store.priority import lower_priority

#: Seconds a job process gets to end by itself at shutdown, before it is killed.
STOP_GRACE = 5.0


class JobRunner:
    """Starts ingest jobs of one server process over ``store`` and stops them at shutdown.

    ``key`` is the server's keyed-hash secret, handed to the job so that erased people stay
    out of what it ingests (the tombstones are hashed with it).
    """

    def __init__(self, store: Store, *, key: bytes) -> None:
        self.store = store
        self.key = key
        self.separate = not store.in_memory
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._stopping = False

    def start(self, kind: str, path: Path) -> str:
        """Start ingesting the file ``path`` (deleted when the job ends); returns the job id."""
        prune_jobs(self.store)
        job = new_job(self.store, kind)
        if not self.separate:
            threading.Thread(
                target=run_job, args=(self.store, job, kind, path), kwargs={"stop": self._stop}
            ).start()
            return job
        env = {**os.environ, "KNOTWORK_DATABASE_URL": self.store.url}
        with contextlib.suppress(UnicodeDecodeError):  # a binary key cannot travel in env
            env["KNOTWORK_SECRET_KEY"] = self.key.decode()
        command = [sys.executable, "-m", "knotwork.store.jobs", job, kind, str(path)]
        try:
            process = subprocess.Popen(
                [*command, str(os.getpid())], env=env, stdin=subprocess.DEVNULL
            )
        except OSError as error:
            path.unlink(missing_ok=True)
            reason = f"cannot start the job's process: {error}"
            finish_job(self.store, job, "failed", error=_error(job, reason))
            return job
        lower_priority(NICE, process=process.pid)  # its start-up too (it lowers itself later)
        with self._lock:
            self._processes[job] = process
        threading.Thread(target=self._reap, args=(job, process), daemon=True).start()
        return job

    def _stop(self) -> str | None:
        return "the server shut down" if self._stopping else None

    def _cancel(self, job: str) -> None:
        reason = "the server shut down"
        finish_job(self.store, job, "cancelled", error=_error(job, reason, name="JobCancelled"))

    def _reap(self, job: str, process: subprocess.Popen[bytes]) -> None:
        status = process.wait()
        with self._lock:
            self._processes.pop(job, None)
        if status == 0:  # the job is done and said so
            return
        # a no-op when the job recorded its own end, as it does unless it was killed
        try:
            if self._stopping:
                self._cancel(job)
            else:
                reason = f"the job's process ended (status {status}) without a result"
                finish_job(self.store, job, "failed", error=_error(job, reason))
        except (KnotworkError, SQLAlchemyError):  # the store is gone: nobody is left to tell
            pass

    def running(self) -> list[str]:
        """The jobs whose process is still running."""
        with self._lock:
            return sorted(self._processes)

    def stop(self, grace: float = STOP_GRACE) -> list[str]:
        """Stop every job still running (SIGTERM, then SIGKILL after ``grace`` seconds) and
        mark it ``cancelled``; returns their ids."""
        self._stopping = True
        with self._lock:
            processes = dict(self._processes)
        for process in processes.values():
            process.terminate()
        for job, process in processes.items():
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            self._cancel(job)
        return sorted(processes)


def _error(job: str, reason: str, *, name: str = "JobError") -> dict[str, str]:
    return {"error": name, "place": job, "reason": reason}


__all__ = ["STOP_GRACE", "JobRunner"]
