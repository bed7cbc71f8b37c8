"""Where a kernel's code comes from: the numpy source executed in memory, the numba
module written to the private cache and imported (numba caches its machine code beside
it), and the removal of modules nobody used for a while."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import linecache
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sdkit.cache import cache_folder, cached_file

#: vectors of lanes LLVM interleaves in the numba kernel's lane loop
INTERLEAVE = 2

#: held while a numba module is imported or compiled (numba's compiler is not thread-safe)
LOAD_LOCK = threading.Lock()


@contextlib.contextmanager
def interleaved_vectors(count: int = INTERLEAVE):
    """Numba compiles inside this block interleave ``count`` vectors in vectorised loops."""
    import llvmlite.binding as llvm

    llvm.set_option("", f"-force-vector-interleave={count}")
    try:
        yield
    finally:
        llvm.set_option("", "-force-vector-interleave=0")  # 0: LLVM's cost model decides


def _runtime_hash() -> str:
    """Hash of the modules a generated kernel calls into.

    numba's on-disk cache does not notice when a called function or a compiler
    option changes, so the kernel's module name includes this hash and the
    interleave count: editing vmath.py, vformulas.py, nbfunctions.py, vrandom.py or available.py, or changing
    :data:`INTERLEAVE`, gives every kernel a new name and a fresh compile.
    """
    folder = Path(__file__).parent
    h = hashlib.sha256()
    for name in ("vmath.py", "vformulas.py", "nbfunctions.py", "vrandom.py", "available.py"):
        h.update((folder / name).read_bytes())
    return h.hexdigest()


RUNTIME_HASH = _runtime_hash()


#: kernels (model structures) not used for this many days are removed from the cache
STALE_DAYS = 30


def compiled_with() -> str:
    """What a kernel module is compiled with, part of its name: sdkit's runtime, the interleave count, numba."""
    return f"{RUNTIME_HASH} interleave={INTERLEAVE} numba={_numba_version()}"


@functools.cache
def _numba_version() -> str:
    """numba's installed version, read without importing numba (which takes about 0.15 s)."""
    return importlib.metadata.version("numba")


def remove_stale_kernels(folder: Path, max_age_days: float = STALE_DAYS) -> list[str]:
    """Delete cached kernel and block modules (and numba's files for them) unused for ``max_age_days``.

    A module's file is touched whenever it is loaded, so only modules of model
    structures (or sdkit versions) nobody ran for that long go. Returns their names.
    """
    cutoff = time.time() - max_age_days * 86400
    removed = []
    for path in [*folder.glob("sdkit_kernel_*.py"), *folder.glob("sdkit_block_*.py")]:
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            path.unlink()
            for cached in (folder / "__pycache__").glob(f"{path.stem}.*"):
                cached.unlink()
        except OSError:  # another process removed or is writing it
            continue
        removed.append(path.stem)
    return removed


def exec_numpy_source(source: str) -> Any:
    """The numpy kernel's ``run``, compiled under a name that tracebacks can show the source of.

    The name holds the hash of the source and is registered with :mod:`linecache`, so a
    traceback through the kernel shows the generated line that failed.
    """
    filename = f"<sdkit-kernel-numpy-{hashlib.sha256(source.encode('utf-8')).hexdigest()[:16]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - sdkit's own generated code
    return namespace["run"]


def load_numba(src: str, digest: str) -> Any:
    """The numba module ``src`` (named by ``digest``): from this process's modules, else
    written to the private cache (verified) and imported."""
    import numba

    name = f"sdkit_kernel_{digest}_{numba.__version__.replace('.', '_')}"
    return load_modules([(name, src)])


def load_modules(modules: list[tuple[str, str]]) -> Any:
    """The last of ``modules`` (``(name, text)``), each imported from this process's modules,
    else written to the private cache (verified) and imported, in order."""
    if all(name in sys.modules for name, _ in modules):  # loaded: no waiting for a compile holding the lock
        return sys.modules[modules[-1][0]]
    with LOAD_LOCK:
        folder = None
        for name, text in modules:
            if name in sys.modules:
                continue
            if folder is None:
                folder = cache_folder("engine")
                remove_stale_kernels(folder)
            sys.modules[name] = _import(folder, name, text)
        return sys.modules[modules[-1][0]]


def _import(folder: Path, name: str, text: str) -> Any:
    """Module ``name`` from ``folder/name.py``, (re)written with ``text`` first (and again if another
    process removed the file as stale in between)."""
    try:
        return _import_file(cached_file(folder, f"{name}.py", text), name)
    except FileNotFoundError:
        return _import_file(cached_file(folder, f"{name}.py", text), name)


def _import_file(path: Path, name: str) -> Any:
    os.utime(path)  # in use: not stale
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
