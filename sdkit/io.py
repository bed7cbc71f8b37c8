"""Write results atomically: a temporary file beside the target, then a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import xarray as xr

from sdkit.errors import OutputError


def check_output_path(path: str | Path, force: bool = False) -> Path:
    """Validate an output path before any work is done.

    Raises
    ------
    OutputError
        The folder is missing or not writable, or the file exists and ``force`` is False.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"output folder {folder} does not exist; create it first (mkdir -p {folder})")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"output folder {folder} is not writable; choose another --out")
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name, e.g. {path / 'results.nc'}")
    if path.exists() and not force:
        raise OutputError(f"{path} already exists; pass --force to overwrite it")
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(descriptor)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` and move the result onto ``path``; errors become OutputError."""
    path = Path(path)
    try:
        with atomic_path(path) as temporary:
            write(temporary)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}; free space or choose another --out") from None
    return path


def write_netcdf(dataset: xr.Dataset, path: str | Path) -> Path:
    """Write a dataset to netCDF4 atomically (no partial file is ever left at ``path``)."""
    return write_atomic(path, lambda temporary: dataset.to_netcdf(temporary, engine="netcdf4"))
