"""PySD's abstract model of a model text, kept in the private cache between processes.

PySD's Vensim parser takes 0.2–0.7 s for the shipped models, most of what loading a
model costs; the abstract model it returns pickles in about 50 kB and loads in about
a millisecond. :func:`cached_parse` keeps one pickle per parse, named by the hash of
everything the parse depends on: the model text and its path, the precedence rule, the
versions of PySD and parsimonious, and the source of the sdkit modules that shape the
parse. A cached pickle lives in sdkit's private cache folder (:mod:`sdkit.cache`) and is
read by an unpickler that builds only PySD's syntax-tree classes, paths and numpy
scalars: a file that holds anything else is ignored and the text is parsed again.
:func:`cached_plain` keeps plain data derived from a parse (strings, numbers, lists,
tuples, dicts; read back by an unpickler that builds nothing else) under the same key,
so that a warm load need not import what computed it. PySD's abstract-model classes are
taken from their own modules without importing PySD's package (:func:`pysd_module`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import logging
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import Any

from sdkit.cache import cache_folder, write_private

log = logging.getLogger(__name__)

#: cached parses not read for this many days are removed when a new one is written
STALE_DAYS = 30

#: the modules whose classes make up PySD's abstract model
_TREE_MODULES = ("pysd.translators.structures.abstract_expressions", "pysd.translators.structures.abstract_model")
#: PySD's modules that import nothing of PySD's (:func:`pysd_module`): the abstract model and the builder's function names
_STANDALONE_MODULES = (*_TREE_MODULES, "pysd.builders.python.python_functions")
_STANDALONE_LOCK = threading.RLock()
#: the other globals an abstract model's pickle refers to
_OTHER_GLOBALS = {
    ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "PurePosixPath"),
    ("pathlib", "PureWindowsPath"), ("numpy", "dtype"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
}
#: the sdkit modules whose code decides what a parse returns
_PARSE_MODULES = ("precedence.py", "safety.py", "subscript_case.py")


class _TreeUnpickler(pickle.Unpickler):
    """Builds PySD's syntax-tree classes, paths and numpy values; refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        if module in _TREE_MODULES:
            return getattr(pysd_module(module), name)
        if (module, name) in _OTHER_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"a cached parse may not refer to {module}.{name}")


def expressions_module() -> ModuleType:
    """PySD's ``abstract_expressions``: the classes of an equation's syntax tree (:func:`pysd_module`)."""
    return pysd_module(_TREE_MODULES[0])


def pysd_module(name: str) -> ModuleType:
    """PySD's module ``name``, one of :data:`_STANDALONE_MODULES`, without importing PySD's
    package when it is not imported yet.

    These modules import nothing of PySD's (only ``dataclasses``, ``typing`` and
    ``pathlib``), while PySD's package imports its model classes and with them openpyxl
    (about 0.15 s of a one-run process). The module's file is run alone under its own
    name in ``sys.modules``; a later ``import pysd`` finds it there and uses the same classes.
    """
    if name not in _STANDALONE_MODULES:
        raise ValueError(f"{name} is not one of PySD's modules that stand alone")
    with _STANDALONE_LOCK:  # one module object, whichever thread asks first
        found = sys.modules.get(name)
        if found is not None:
            return found
        package = importlib.util.find_spec("pysd") if "pysd" not in sys.modules else None
        if package is None or package.origin is None:
            return importlib.import_module(name)
        spec = importlib.util.spec_from_file_location(
            name, Path(package.origin).parent.joinpath(*name.split(".")[1:]).with_suffix(".py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module


@cache
def _parser_fingerprint() -> str:
    """The versions and sources a parse depends on, hashed."""
    h = hashlib.sha256()
    for package in ("pysd", "parsimonious", "numpy"):
        try:
            h.update(f"{package}={version(package)};".encode())
        except PackageNotFoundError:
            h.update(f"{package}=?;".encode())
    folder = Path(__file__).parent
    for name in _PARSE_MODULES:
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def parse_key(path: Path, text: str, vensim_precedence: bool) -> str:
    """The name of the cached parse of ``text`` read from ``path``."""
    h = hashlib.sha256(_parser_fingerprint().encode())
    h.update(f"{path.resolve()}\0{vensim_precedence}\0".encode())
    h.update(text.encode("utf-8"))
    return h.hexdigest()


def cached_parse(path: Path, text: str, vensim_precedence: bool, parse: Callable[[], Any]) -> Any:
    """``parse()``'s abstract model, from the cache when this parse was kept before."""
    return _kept(("parsed",), parse_key(path, text, vensim_precedence), _TreeUnpickler, parse,
                 f"the parse of {path}")


def _kept(folders: tuple[str, ...], key: str, unpickler: type[pickle.Unpickler],
          compute: Callable[[], Any], what: str) -> Any:
    """``compute()``'s value, read back (by ``unpickler``) from ``key`` in the cache folder
    ``folders`` when it was kept before, else computed and kept (stale entries removed);
    ``what`` names it in the debug line when it cannot be kept."""
    try:
        folder = cache_folder(*folders)
    except OSError:
        return compute()
    name = f"{key}.pickle"
    found = _load(folder / name, unpickler)
    if found is not None:
        return found
    value = compute()
    try:
        write_private(folder, name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        remove_stale_parses(folder)
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
        log.debug("not caching %s: %s", what, exc)
    return value


class _PlainUnpickler(pickle.Unpickler):
    """Builds Python's plain containers and scalars; refuses every global."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"cached plain data may not refer to {module}.{name}")


def cached_plain(kind: str, path: Path, text: str, compute: Callable[[], Any]) -> Any:
    """``compute()``'s plain data about the parse of ``text`` (Vensim's precedence), from the
    cache when it was kept before; ``kind`` names what it is (and its cache folder)."""
    return _kept(("parsed", kind), parse_key(path, text, True), _PlainUnpickler, compute,
                 f"the {kind} of {path}")


def _load(path: Path, unpickler: type[pickle.Unpickler] = _TreeUnpickler) -> Any:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        model = unpickler(io.BytesIO(data)).load()
    except Exception as exc:  # a damaged or foreign file is parsed again, never trusted
        log.debug("ignoring cached parse %s: %s", path, exc)
        return None
    try:
        os.utime(path)
    except OSError:
        pass
    return model


def remove_stale_parses(folder: Path, max_age_days: float = STALE_DAYS) -> list[str]:
    """Delete cached parses not read for ``max_age_days``; returns their names."""
    cutoff = time.time() - max_age_days * 86400
    removed = []
    for path in folder.glob("*.pickle"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path.name)
        except OSError:  # another process removed it
            continue
    return removed
