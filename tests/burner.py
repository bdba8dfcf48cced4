"""A CPU burner for tests that prove results do not depend on the machine's load.

`cpu_burner(n)` starts `n` processes spinning in busy loops for the duration of a ``with``
block (at least one per core makes every solver thread share its core), and stops them
on exit. Tests compare what a computation produces with and without it: never a timing.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator
from contextlib import contextmanager


def _spin(stop: mp.synchronize.Event) -> None:  # pragma: no cover (runs in a child)
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF


@contextmanager
def cpu_burner(n: int | None = None) -> Iterator[int]:
    """Keep `n` (default: one per core) busy-loop processes running inside the block.

    One per core is enough: with the computation's own threads (and, in the suite, the
    other test worker) every core is shared all along. Two per core proved nothing more
    and took two thirds of the machine from the rest of the suite while the demo ran."""
    n = n or (os.cpu_count() or 1)
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    procs = [ctx.Process(target=_spin, args=(stop,), daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    try:
        yield n
    finally:
        stop.set()
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
                p.join()
