"""Where chunks run: this process, a local cluster of worker processes, or a running scheduler."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from sdkit.errors import ParameterError, SdkitError

log = logging.getLogger(__name__)


def check_workers(workers: int, cpus: int | None = None) -> None:
    """Refuse more local worker processes than this machine has CPUs.

    Each worker is a process holding its own copy of the compiled model: beyond one per
    CPU they add memory and start-up time but no speed.
    """
    cpus = cpus or os.cpu_count() or 1
    if workers > cpus:
        raise ParameterError(f"--workers {workers} exceeds the {cpus} CPUs of this machine (each worker is a process "
                             f"with its own copy of the model); use --workers {cpus} or fewer, or --scheduler "
                             "tcp://HOST:PORT for a cluster")


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
        check_workers(workers)
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
