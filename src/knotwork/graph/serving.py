"""Serving views while other processes write the store: readers never wait for a refresh.

A server answers reads from cached views (:func:`~knotwork.graph.view.cached_view`). While an
ingest job writes the store from another process, bringing a view up to date in the thread
of a request makes that request wait, and so does every result a service derives from the new
view (an expertise index, a ranking): reads slow down for as long as the ingest runs.

:func:`serve_views` hands a store's views to one background thread instead. A reader gets the
last view that was made ready; every ``poll`` seconds the thread reads what changed (as
:func:`~knotwork.graph.live.refresh` does), runs the server's *warm* function on the new views
(the reads it answers most, so that their derived results are computed here, not in a
request), and only then makes the new views the cached ones (if warming fails, it logs why
and serves them unwarmed). What another process wrote shows within about ``poll`` seconds
plus one round.

A client still sees its own writes at once: writes made by this process to the graph's tables
are counted by the store (:attr:`~knotwork.store.engine.Store.graph_writes`), and a view older
than the last of them is brought up to date in the reader's thread, as without serving.
:meth:`Serving.settle` makes every view current and ready now (an ingest job's progress
calls it once the job ended, so that a client that saw its job finish sees its data).

>>> from knotwork.graph.sample import sample_store
>>> from knotwork.graph.view import cached_view
>>> store = sample_store()
>>> asked = []
>>> serving = serve_views(store, warm=lambda s: asked.append(cached_view(s).n_links))
>>> cached_view(store).n_links
12
>>> serving.settle(); asked     # nothing changed: nothing to warm
[]
>>> serving.stop()
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from collections.abc import Callable

from knotwork.graph.live import refresh, shared_changes
from knotwork.graph.ppr import limit_threads
from knotwork.graph.view import (
    _LOCK,
    _REFRESHING,
    _SERVED,
    _VIEWS,
    GraphView,
    ViewKey,
    publish,
)
from knotwork.store.engine import Store
from knotwork.store.priority import lower_priority

#: Seconds between two looks at the store when no reader asked.
POLL_SECONDS = 2.0
#: How far behind other processes' writes a cached count may be (seconds): a profile's
#: counts are recomputed at most this often while another process ingests (the views lag by
#: a poll, a round and a rest: a few seconds).
READ_LAG = 30.0
#: The interpreter's thread switch interval while views are served (seconds): the background
#: thread holds the GIL at most this long before a reader gets it (Python's default is 5 ms,
#: which a reader that makes many short database calls pays at each call).
SWITCH_SECONDS = 0.001
#: Threads per kernel call while views are served: requests run side by side (the kernels
#: release the GIL), each kernel on one thread.
KERNEL_THREADS = 1
#: Collections of the middle generation between two full collections (Python's default: 10).
FULL_COLLECTION_EVERY = 100
#: How much lower the background thread runs (nice): readers come first, ingest jobs (19) last.
NICE = 10
#: The background thread rests at least this share of its time (a round that took 1 s is
#: followed by 3 s of rest), so that it takes at most a quarter of a core from the readers
#: (0.5 let the rounds of a long ingest job run half the time, with reads slower throughout).
REST_SHARE = 0.75
#: The view cache's memo key holding the store's write count when the view was read.
_WRITES = ("serving", "graph-writes")

log = logging.getLogger(__name__)
_LOCAL = threading.local()


def _written(view: GraphView) -> int:
    """This process's graph writes the view is known to include (-1: unknown)."""
    return int(view._cache.get(_WRITES, -1))


class _CollectorPause:
    """No automatic garbage collection while at least one ``with`` block of it runs (in
    any thread); the collector comes back when the last one ends, if it was on before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._was_on = False

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._was_on = gc.isenabled()
                gc.disable()
            self._inside += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._was_on:
                gc.enable()


_collector_paused = _CollectorPause()


class Serving:
    """The background thread that keeps the views of one store up to date (see the module).

    ``warm(store)`` is called in that thread on each set of new views, before they are
    served; its :func:`~knotwork.graph.view.cached_view` calls get the new views.
    """

    def __init__(
        self, store: Store, warm: Callable[[Store], object], *, poll: float = POLL_SECONDS
    ) -> None:
        self.store = store
        self.key = store.cache_key
        self.warm = warm
        self.poll = poll
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._urgent = threading.Event()  # a settle() waits: no rest before the next round
        self._rounds = threading.Condition()
        self._begun = 0
        self._ended = 0
        self._thread = threading.Thread(target=self._run, name="knotwork-views", daemon=True)

    # -- readers ----------------------------------------------------------------------------

    def view(self, store: Store, key: ViewKey) -> GraphView:
        """The view of ``key`` for a reader: the last one made ready, unless this process
        wrote to the graph since it was read (then it is brought up to date here)."""
        ready: dict[ViewKey, GraphView] | None = getattr(_LOCAL, "views", None)
        if ready is not None and key in ready:
            return ready[key]  # the background thread warming its new views
        with _LOCK:
            hit = _VIEWS.get(key)
            busy = _REFRESHING.setdefault(key, threading.Lock())
        if hit is not None and _written(hit) >= store.graph_writes:
            return hit  # the thread looks at the store every ``poll`` seconds
        with busy:
            with _LOCK:
                hit = _VIEWS.get(key)
            writes = store.graph_writes
            view = refresh(store, hit, as_of=key[1], half_life_days=key[2])
            view._cache[_WRITES] = max(writes, _written(view))
            if view is not hit:
                publish(key, view)
        return view

    # -- the background thread --------------------------------------------------------------

    def settle(self) -> None:
        """Make every cached view of the store current, warm and served before returning: a
        round of the background thread that begins after this call (at the thread's low
        priority), or a round in this thread when none runs."""
        if not self._thread.is_alive() or self._thread is threading.current_thread():
            self._round()
            return
        with self._rounds:
            wanted = self._begun + 1
        self._urgent.set()
        self._wake.set()
        with self._rounds:
            while self._ended < wanted and not self._stopped.is_set():
                if not self._thread.is_alive():  # it died: do the round here
                    self._rounds.release()
                    try:
                        self._round()
                    finally:
                        self._rounds.acquire()
                    return
                self._rounds.wait(1.0)

    def _round(self) -> None:
        """Bring every cached view of the store up to date, warm the new ones, serve them.

        The garbage collector is paused meanwhile: reading new links makes many short-lived
        row tuples, and the collections they set off (10-20 ms each, several a round) hold
        the interpreter lock, stopping every reader."""
        with _collector_paused:
            self._round_now()

    def _round_now(self) -> None:
        began = time.perf_counter()
        with _LOCK:
            keys = [key for key in _VIEWS if key[0] == self.key]
        writes = self.store.graph_writes
        changes = shared_changes()  # the views of the store share what changed
        held: list[threading.Lock] = []
        views: dict[ViewKey, GraphView] = {}
        try:
            for key in keys:
                with _LOCK:
                    busy = _REFRESHING.setdefault(key, threading.Lock())
                    hit = _VIEWS.get(key)
                if hit is None or not busy.acquire(blocking=False):
                    continue  # a reader brings this one up to date itself
                held.append(busy)
                views[key] = refresh(
                    self.store, hit, as_of=key[1], half_life_days=key[2], read=changes
                )
            log.debug("views of %s read in %.3f s", self.key, time.perf_counter() - began)
            changed = any(view is not _VIEWS.get(key) for key, view in views.items())
            if changed:
                _LOCAL.views = views
                try:
                    self.warm(self.store)
                except Exception:  # served unwarmed: its readers derive what they need
                    log.exception("warming the new views of %s failed", self.key)
                finally:
                    _LOCAL.views = None
                log.debug("views of %s warmed at %.3f s", self.key, time.perf_counter() - began)
            for key, view in views.items():
                view._cache[_WRITES] = max(writes, _written(view))
                publish(key, view)
        finally:
            for busy in held:
                busy.release()

    def _run(self) -> None:
        lower_priority(NICE, thread=True)
        while not self._stopped.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stopped.is_set():
                break
            with self._rounds:
                self._begun += 1
            started = time.perf_counter()
            try:
                self._round()
            except Exception:  # a failed refresh must not end serving: readers keep the last
                log.exception("bringing the views of %s up to date failed", self.key)
            finally:
                with self._rounds:
                    self._ended += 1
                    self._rounds.notify_all()
            took = time.perf_counter() - started
            log.debug("views of %s brought up to date in %.3f s", self.key, took)
            self._urgent.wait(took * REST_SHARE / (1 - REST_SHARE))
            self._urgent.clear()

    def start(self) -> Serving:
        """Start the thread and route the store's :func:`cached_view` calls here."""
        _SERVED[self.key] = self
        self.store.read_lag = READ_LAG
        limit_threads(KERNEL_THREADS)
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_SECONDS))
        # What lives now (the libraries' modules, functions and types: some 300,000 objects)
        # lives as long as the server: out of the collector's reach, a full collection walks
        # only what was made since, instead of stopping every thread for 100-400 ms.
        # And the new views' objects (made in rounds) would start full collections every few
        # seconds, each stopping every thread for tens of ms: ten times fewer of them.
        gc.collect()
        gc.freeze()
        young, middle, old = gc.get_threshold()
        gc.set_threshold(young, middle, max(old, FULL_COLLECTION_EVERY))
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread; the store's views are then refreshed by their readers again."""
        if _SERVED.get(self.key) is self:
            del _SERVED[self.key]
            self.store.read_lag = 0.0
            if not _SERVED:
                limit_threads(None)
        self._stopped.set()
        self._wake.set()
        self._urgent.set()
        with self._rounds:
            self._rounds.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()


def serve_views(
    store: Store, warm: Callable[[Store], object], *, poll: float = POLL_SECONDS
) -> Serving:
    """Keep the views of ``store`` up to date in a background thread (see the module);
    ``stop()`` the result at shutdown."""
    return Serving(store, warm, poll=poll).start()


def serving(store: Store) -> Serving | None:
    """The :class:`Serving` of ``store`` in this process, if any."""
    found: Serving | None = _SERVED.get(store.cache_key)
    return found


__all__ = [
    "KERNEL_THREADS",
    "NICE",
    "POLL_SECONDS",
    "REST_SHARE",
    "SWITCH_SECONDS",
    "Serving",
    "serve_views",
    "serving",
]
