"""One call's samples over threads: each thread takes the next range of samples when it has finished one."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: ranges start at multiples of this many samples (every lane count divides it) when a call has enough of them
ALIGN = 128
#: a thread is started for every this many samples, up to one per usable CPU
SAMPLES_PER_THREAD = 16


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_threads(fn: Callable[..., Any], args: tuple, n: int, first: int = 0) -> None:
    """Call ``fn(*args, start, stop)`` over ranges that cover samples ``first..n``, with one thread per usable
    CPU (at least 16 samples each), and wait for all.

    ``fn`` is a numba function compiled with ``nogil=True`` that computes samples ``start <= s < stop`` into
    arrays among ``args``, each sample on its own, so that the ranges never change a result; the kernel, the
    loop scores (:mod:`sdkit.loops.linkcode`) and the loop automaton run through it. The ranges are guided
    (:func:`guided_ranges`): a thread slowed down by another job on its core takes fewer of them, instead of
    holding the whole call back by its fixed half.
    """
    workers = max(1, min(usable_cpus(), (n - first) // SAMPLES_PER_THREAD))
    if workers == 1:
        fn(*args, first, n)
        return
    ranges = guided_ranges(first, n, workers)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                bounds = next(ranges, None)
            if bounds is None:
                return
            fn(*args, *bounds)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()


def guided_ranges(first: int, n: int, workers: int) -> Iterator[tuple[int, int]]:
    """Ranges that cover ``first..n`` in order, each half a thread's share of the samples left (rounded up to
    :data:`ALIGN`), so that they shorten towards the end; none but the last shorter than ``ALIGN`` or, in a
    small call, than a thread's share."""
    shortest = min(ALIGN, -(-(n - first) // workers))
    start = first
    while start < n:
        share = -(-(n - start) // (2 * workers))
        size = max(shortest, -(-share // ALIGN) * ALIGN if share > ALIGN else shortest)
        stop = min(n, start + size)
        yield start, stop
        start = stop
