"""Read inputs only from regular files; write results atomically, only onto regular files.

Outputs go to a temporary file beside the target, then a rename; the rename never
replaces a device, FIFO or folder. Inputs are opened without blocking (a FIFO does not
hang), must be regular files and are read up to a size limit (``/dev/zero`` does not
fill memory).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import xarray as xr

from sdkit.errors import OutputError, SdkitError

#: Inputs (scenarios, checks, samples, sweep specifications) larger than this are refused.
MAX_INPUT_BYTES = 64_000_000


def looked_for(path: str | Path) -> str:
    """Where sdkit looked for a file: ``looked for /absolute/path``, for not-found messages."""
    return f"looked for {Path(path).absolute()}"


def read_input(path: str | Path, what: str, error: type[SdkitError] = SdkitError,
               limit: int = MAX_INPUT_BYTES, advice: str = "give a smaller file") -> bytes:
    """The bytes of an input file that must be a regular file no larger than ``limit``.

    Raises
    ------
    error
        The file is missing, not a regular file (a FIFO, device or folder), too large
        or unreadable; the message names ``what`` and the path.
    """
    path = Path(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"cannot read {what} {path}: it does not exist ({looked_for(path)}); check the path") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}; check its permissions") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        mode = info.st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
            raise error(f"{what} {path} is {kind}; give the path of a file")
        if info.st_size > limit:
            raise error(f"{what} {path} is {info.st_size / 1e6:.1f} MB, more than sdkit reads "
                        f"({limit / 1e6:g} MB); {advice}")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise error(f"cannot read {what} {path}: {exc.strerror or exc}; check the file") from None
    if len(data) > limit:
        raise error(f"{what} {path} is larger than {limit / 1e6:g} MB, more than sdkit reads; {advice}")
    return data


def read_toml(path: str | Path, what: str, error: type[SdkitError] = SdkitError) -> tuple[str, dict[str, Any]]:
    """The text and the parsed tables of a TOML input file (a regular, UTF-8 file).

    Raises
    ------
    error
        Not a regular file, too large, not UTF-8, not TOML, or nested too deeply.
    """
    path = Path(path)
    raw = read_input(path, what, error)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path.name} is not valid TOML: {exc}; fix the line it names") from None
    except RecursionError:
        raise error(f"{path.name} nests arrays or tables too deeply to read; flatten it") from None
    huge = _first_huge_integer(data)
    if huge is not None:
        raise error(f"{path.name} holds the integer {str(huge)[:20]}... ({len(str(abs(huge)))} digits), "
                    "too large for a number sdkit can compute with; give a smaller value")
    return text, data


def _first_huge_integer(data: Any) -> int | None:
    """The first integer in parsed TOML too large to become a float (None if there is none)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > sys.float_info.max:
            return item
    return None


def refuse_special(path: Path) -> None:
    """Refuse an output path that exists and is not a regular file (even with --force)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot use {path} as output: {exc.strerror or exc}; choose another --out") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path} is a folder; give a file name, e.g. {path / 'results.nc'}")
    if not stat.S_ISREG(mode):
        raise OutputError(
            f"{path} is not a regular file (a device, FIFO or socket); sdkit never replaces it, "
            "even with --force; choose another --out"
        )


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
    refuse_special(path)
    if path.exists() and not force:
        raise OutputError(f"{path} already exists; pass --force to overwrite it")
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    refuse_special(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(descriptor)
    try:
        os.chmod(temporary, output_mode())  # mkstemp makes 0600; outputs honour the umask
        yield Path(temporary)
        refuse_special(path)
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
            try:
                write(temporary)
            except (OSError, RuntimeError) as exc:  # netCDF reports a full disk as RuntimeError
                reason = _reason(exc, path.parent)
                if reason is None:
                    raise
                raise OutputError(f"cannot write {path}: {reason}") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc, path.parent)}") from None
    return path


def write_netcdf(dataset: xr.Dataset, path: str | Path) -> Path:
    """Write a dataset to netCDF4 atomically (no partial file is ever left at ``path``)."""
    return write_atomic(path, lambda temporary: _to_netcdf4(dataset, temporary))


def _to_netcdf4(dataset: xr.Dataset, path: Path) -> None:
    """``dataset.to_netcdf(path, engine="netcdf4")``, the same bytes; a dataset held in memory
    (no dask chunks, no unlimited dimension) is written through xarray's netCDF4 store
    directly, skipping ``to_netcdf``'s question which dask scheduler runs, which imports
    ``dask.distributed`` (about 0.3 s of a one-run process)."""
    if any(v.chunks is not None for v in dataset.variables.values()) or dataset.encoding.get("unlimited_dims"):
        dataset.to_netcdf(path, engine="netcdf4")
        return
    import netCDF4
    from xarray.backends import NetCDF4DataStore

    from sdkit.dask_probe import answer_lazily

    answer_lazily()
    store = NetCDF4DataStore(netCDF4.Dataset(str(path), mode="w", format="NETCDF4"), mode="w")
    try:
        dataset.dump_to_store(store, writer=_WriteAtOnce())
    finally:
        store.close()


class _WriteAtOnce:
    """xarray's ``ArrayWriter`` for arrays in memory: each array is written as the store
    hands it over, as ``ArrayWriter`` does with every array that is not a dask array
    (without asking dask whether it is one, which imports dask: 0.1 s)."""

    def add(self, source: Any, target: Any, region: Any = None) -> None:
        target[region or ...] = source


def _read_umask() -> int:
    """The process's umask: from /proc on Linux, else by setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask



def output_mode() -> int:
    """The mode of a new output file under this process's umask (0644 under umask 022)."""
    return 0o666 & ~_read_umask()


def _disk_full(folder: Path) -> bool:
    try:
        found = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return found.f_bavail * found.f_frsize < 1_000_000


def _reason(exc: BaseException, folder: Path) -> str | None:
    """What went wrong writing an output and the fix that fits it (None: not an I/O failure)."""
    code = getattr(exc, "errno", None)
    strerror = getattr(exc, "strerror", None) or str(exc)
    if code in (errno.ENOSPC, errno.EDQUOT) or _disk_full(folder):
        return f"{strerror}: the disk is full; free space or choose another --out"
    if not isinstance(exc, OSError):
        return None
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{strerror}; choose a writable --out"
    return f"{strerror}; free space or choose another --out"
