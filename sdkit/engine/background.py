"""A numba compile in a background thread that reports its progress once it outlasts a budget.

``Kernel.simulate(backend="auto")`` waits for the numba kernel at most
:data:`COMPILE_BUDGET_S` seconds (loading it from numba's cache takes well under
a second); a compile that takes longer goes on in the background while the run
is done by the numpy backend (the same bits) in chunks of
:data:`MEANWHILE_SAMPLES` samples, and the samples left when the compile ends go
to the numba kernel (:func:`simulate_meanwhile`). Every :data:`COMPILE_BUDGET_S`
seconds a line on the ``sdkit.engine`` logger (shown on stderr when logging is not
configured) says how long it has been compiling. A compile still running when
the interpreter exits is finished first, so that numba's cache holds the kernel
for the next process.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from sdkit.errors import NonFiniteError

log = logging.getLogger("sdkit.engine")

#: seconds a caller waits for a numba compile before running on numpy; also the interval of progress lines
COMPILE_BUDGET_S = 10.0
#: samples per numpy call while the numba kernel compiles
MEANWHILE_SAMPLES = 1024


_RUNNING: set[CompileJob] = set()


@atexit.register
def _finish_running_compiles() -> None:
    for job in list(_RUNNING):
        log.warning("finishing the numba compile of %s (%.0f s so far) so that the next run loads it "
                    "from the cache", job.what, job.elapsed)
        job.done.wait()


class CompileJob:
    """``build()`` running in a daemon thread, with a second thread reporting its progress."""

    def __init__(self, build: Callable[[], object], what: str) -> None:
        self.what = what
        self.started = time.monotonic()
        self.error: BaseException | None = None
        #: a caller has said that it runs on numpy meanwhile
        self.announced = False
        self.done = threading.Event()
        _RUNNING.add(self)
        threading.Thread(target=self._build, args=(build,), daemon=True, name="sdkit-compile").start()
        threading.Thread(target=self._report, daemon=True, name="sdkit-compile-progress").start()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _build(self, build: Callable[[], object]) -> None:
        try:
            build()
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits for it
            self.error = exc
        finally:
            _RUNNING.discard(self)
            self.done.set()

    def _report(self) -> None:
        reported = False
        while not self.done.wait(COMPILE_BUDGET_S):
            reported = True
            log.warning("compiling the numba kernel of %s: %.0f s so far", self.what, self.elapsed)
        if reported and self.error is None:
            log.warning("numba kernel of %s compiled in %.0f s", self.what, self.elapsed)

    def ready_within_budget(self) -> bool:
        """Wait until the budget since the start is spent; True when the compile has finished."""
        return self.done.wait(max(0.0, COMPILE_BUDGET_S - self.elapsed))

    def wait(self) -> None:
        """Wait until the compile has finished; raise what it raised."""
        self.done.wait()
        if self.error is not None:
            raise self.error


def simulate_meanwhile(params: Mapping[str, Any], n: int, shape: Callable[[str], tuple[int, ...]],
                       ready: Callable[[], bool], run: Callable[[dict, int, int, str], Any]):
    """``run(params, first, n, backend)`` in chunks of ``n`` samples from sample ``first``:
    numpy until ``ready()``, then numba for the samples left.

    ``shape(name)`` is a constant's subscript shape, to cut per-sample parameters
    (``(n,)`` or ``(n, *shape)``) into chunks. Every sample is computed on its own (its
    random draws follow its number: ``first`` plus its place in the chunk), so the
    chunks give the same bits as one call; a non-finite value names its
    sample within the whole call.
    """
    from sdkit.engine.kernel import SimulationResult

    pieces, start = [], 0
    while start < n:
        backend = "numba" if ready() else "numpy"
        stop = n if backend == "numba" else min(n, start + MEANWHILE_SAMPLES)
        part = {name: _samples(value, n, shape(name), start, stop) for name, value in params.items()}
        try:
            pieces.append(run(part, start, stop - start, backend))
        except NonFiniteError as exc:
            sample = None if exc.sample is None else exc.sample + start
            raise NonFiniteError.at(exc.variable, sample, exc.time) from None
        start = stop
    data = {name: np.concatenate([piece.data[name] for piece in pieces]) for name in pieces[0].data}
    return SimulationResult(times=pieces[0].times, data=data)


def _samples(value: Any, n: int, shape: tuple[int, ...], start: int, stop: int) -> Any:
    array = np.asarray(value, dtype=np.float64)
    return array[start:stop] if array.shape in ((n,), (n, *shape)) else value
