"""Lower the OS priority of a server's background work (ingest jobs, text indexing, view
rounds, recounts), so that the work its readers wait for comes first.

>>> lower_priority(0, thread=True)   # no change, but allowed everywhere
"""

from __future__ import annotations

import contextlib
import os
import threading


def lower_priority(nice: int, *, thread: bool = False) -> None:
    """Run this process, or with ``thread`` only the calling thread (Linux), ``nice`` steps
    below the priority it has; where the system does not allow it, nothing changes."""
    with contextlib.suppress(AttributeError, OSError):
        if thread:
            ident = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, ident, os.getpriority(os.PRIO_PROCESS, ident) + nice)
        else:
            os.nice(nice)


__all__ = ["lower_priority"]
