"""Where chunks run: this process, a local cluster of worker processes, or a running scheduler."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from sdkit.errors import ParameterError, SdkitError

log = logging.getLogger(__name__)


def max_local_workers() -> int:
    """The most worker processes a local cluster may start: four per core."""
    return 4 * (os.cpu_count() or 1)


@contextlib.contextmanager
def executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """Yield ``None`` (in-process) or a ``dask.distributed.Client``; closes what it opened.

    Parameters
    ----------
    workers : int, optional
        Start a ``LocalCluster`` with this many single-threaded worker processes
        (threads are slower here: the kernels hold the GIL in numpy).
    scheduler : str, optional
        Address of a running scheduler, ``tcp://HOST:PORT``.
    """
    if workers is not None and scheduler is not None:
        raise ParameterError("give either --workers or --scheduler, not both")
    if workers is None and scheduler is None:
        yield None
        return
    from dask.distributed import Client, LocalCluster

    if workers is not None:
        if workers < 1:
            raise ParameterError(f"--workers must be at least 1, got {workers}")
        if workers > max_local_workers():
            raise ParameterError(
                f"--workers {workers} is more than this machine can run ({max_local_workers()}: four per "
                "core); give fewer, or start workers on more machines and pass --scheduler"
            )
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    if not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise ParameterError(f"--scheduler {scheduler!r} must look like tcp://HOST:PORT")
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as exc:
        raise SdkitError(f"cannot reach the scheduler at {scheduler}: {exc}; start it or check the address") from None
    with client:
        yield client
