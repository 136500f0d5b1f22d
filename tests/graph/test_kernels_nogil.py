"""The numba kernels release the GIL (where numba has a thread-safe threading layer): a
server's other threads keep running Python while one thread ranks a graph."""

from __future__ import annotations

import threading
import time

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from knotwork.graph import kernels
from knotwork.graph.ppr import FastWalk


@pytest.mark.skipif(not kernels.NOGIL, reason="no thread-safe numba threading layer here")
def test_python_threads_run_while_a_kernel_ranks() -> None:
    rng = np.random.default_rng(3)
    n, m = 200_000, 2_000_000
    matrix = sp.csr_matrix(
        (np.ones(m, dtype=np.float32), (rng.integers(0, n, m), rng.integers(0, n, m))),
        shape=(n, n),
    )
    walk = FastWalk(matrix, order="none")
    walk.pagerank(tol=1e-3, threads=1)  # compiled (or loaded) before the measurement
    took: list[float] = []

    def rank() -> None:
        numba.set_num_threads(1)
        started = time.perf_counter()
        walk.pagerank(tol=1e-9, max_iter=60, threads=1)
        took.append(time.perf_counter() - started)

    worker = threading.Thread(target=rank)
    stamps = [time.perf_counter()]
    worker.start()
    while worker.is_alive():
        stamps.append(time.perf_counter())  # this thread needs the GIL for each step
    worker.join()
    longest_wait = float(np.diff(stamps).max())
    assert took[0] > 0.2  # long enough to tell: a held GIL would stop this thread that long
    assert longest_wait < took[0] / 3
