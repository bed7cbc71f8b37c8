"""One writer per output folder, and no temporary file left behind by it.

Two sweeps started with ``--force`` into the same folder would otherwise delete and
write each other's chunks and results. :func:`folder_lock` takes an advisory ``flock``
on the folder itself, so no lock file is left behind, and the operating system releases
the lock when the process ends however it ends (a killed sweep never leaves a stale
lock). The second writer gets a one-line :class:`~sdkit.errors.OutputError` at once.

Atomic writes (:func:`sdkit.io.atomic_path`) delete their temporary file on any
exception, Ctrl-C included; :func:`interrupt_on_terminate` makes ``SIGTERM`` take that
path too. Only ``SIGKILL`` can leave a ``.<name>.*.tmp`` behind; the next writer, holding
the lock, removes it (:func:`removing_temporaries`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from sdkit.errors import OutputError, SdkitWarning

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["folder_lock", "interrupt_on_terminate", "removing_temporaries"]


@contextlib.contextmanager
def folder_lock(folder: str | Path, option: str = "--out") -> Iterator[Path]:
    """Create ``folder`` if needed and hold an exclusive lock on it until the block ends.

    Parameters
    ----------
    folder : path
        The output folder.
    option : str
        The command-line option that names the folder, for the error message.

    Raises
    ------
    OutputError
        ``folder`` is a file or cannot be created, or another process holds its lock.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file; give a folder for {option}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder, os.O_RDONLY) if fcntl is not None else None
    except OSError as exc:
        raise OutputError(f"cannot create {folder}: {exc.strerror or exc}; choose another {option}") from None
    if descriptor is None:  # no flock on this platform: one writer per folder is then the user's care
        yield folder
        return
    try:
        _lock(descriptor, folder, option)
        yield folder
    finally:
        os.close(descriptor)  # closing the descriptor releases the lock


def _lock(descriptor: int, folder: Path, option: str) -> None:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise OutputError(f"another sdkit process is writing to {folder}; wait for it to finish "
                          f"or choose another {option}") from None
    except OSError as exc:  # a file system without locks (some network mounts)
        warnings.warn(f"cannot lock {folder} ({exc.strerror or exc}); make sure no other sdkit process "
                      "writes there", SdkitWarning, stacklevel=4)


def temporaries(folder: Path) -> list[Path]:
    """Temporary files of atomic writes in ``folder`` (``.<name>.<random>.tmp``)."""
    return [p for p in folder.glob(".*.tmp") if p.is_file()]


@contextlib.contextmanager
def removing_temporaries(folder: str | Path) -> Iterator[None]:
    """Remove temporary files of atomic writes in ``folder`` before and after the block.

    Call it only while holding :func:`folder_lock`: another writer's temporary file is
    then impossible, so every one found was left by a killed process.
    """
    folder = Path(folder)
    for path in temporaries(folder):
        path.unlink(missing_ok=True)
    try:
        yield
    finally:
        for path in temporaries(folder):
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def interrupt_on_terminate() -> Iterator[None]:
    """Within the block, ``SIGTERM`` raises ``KeyboardInterrupt`` like Ctrl-C (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
