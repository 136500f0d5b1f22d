"""Lower the OS priority of a server's background work (ingest jobs, text indexing, view
rounds, recounts), so that the work its readers wait for comes first.

>>> lower_priority(0, thread=True)   # no change, but allowed everywhere
>>> import subprocess, sys
>>> child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
>>> lower_priority(3, process=child.pid)   # at once, before it has imported anything
>>> os.getpriority(os.PRIO_PROCESS, child.pid) > os.getpriority(os.PRIO_PROCESS, 0)
True
>>> child.kill(); child.wait() != 0
True
"""

from __future__ import annotations

import contextlib
import os
import threading


def lower_priority(nice: int, *, thread: bool = False, process: int | None = None) -> None:
    """Run this process, or with ``thread`` only the calling thread (Linux), ``nice`` steps
    below the priority it has; or the child ``process`` (a pid) ``nice`` steps below this
    process, from the moment it starts rather than once it has imported what lowers it (a
    job process's start-up took a core from the readers for about a second). Where the
    system does not allow it, nothing changes."""
    with contextlib.suppress(AttributeError, OSError):
        if process is not None:
            os.setpriority(os.PRIO_PROCESS, process, os.getpriority(os.PRIO_PROCESS, 0) + nice)
        elif thread:
            ident = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, ident, os.getpriority(os.PRIO_PROCESS, ident) + nice)
        else:
            os.nice(nice)


__all__ = ["lower_priority"]
