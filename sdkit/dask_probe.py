"""xarray's test for dask arrays, answered without importing ``dask.array`` until someone else does.

xarray asks whether a value is one of dask's arrays (``array_type("dask")``) each time it
builds a variable from data, including as it encodes each variable of a netCDF file it
writes; the first question imports ``dask.array``, and with it scipy's sparse matrices and
FFT: about 0.3 s, a third of ``sdkit run`` from the shell, which never makes a dask array.
No value can be a dask array before ``dask.array`` is imported, so :func:`answer_lazily`
gives xarray an answer that is the same as its own at every moment: no type while
``dask.array`` is not imported, its ``Array`` once it is (by sdkit's ensembles or anyone
else). Anything else xarray asks of its record of dask (version, module) is taken from
the record xarray makes itself, made on first use.

xarray keeps these records in a private dictionary; when a version of xarray has none,
:func:`answer_lazily` does nothing and xarray imports ``dask.array`` as before.
"""

from __future__ import annotations

import sys
from functools import cached_property
from typing import Any


class _DaskArrayRecord:
    """xarray's record of dask's array type, computed at each question from what is imported."""

    @property
    def type(self) -> tuple[type, ...]:
        array = getattr(sys.modules.get("dask.array"), "Array", None)
        return (array,) if isinstance(array, type) else ()

    @cached_property
    def _imported(self) -> Any:
        from xarray.namedarray.pycompat import DuckArrayModule

        return DuckArrayModule("dask")

    def __getattr__(self, name: str) -> Any:  # module, version, available: xarray's own record
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._imported, name)


def answer_lazily() -> bool:
    """Put the lazy record of dask's arrays into xarray's records, unless xarray has made
    its own already or keeps none; whether it is in place now."""
    try:
        from xarray.namedarray import pycompat
    except ImportError:
        return False
    records = getattr(pycompat, "_cached_duck_array_modules", None)
    if not isinstance(records, dict):
        return False
    records.setdefault("dask", _DaskArrayRecord())
    return isinstance(records["dask"], _DaskArrayRecord)
