"""GET XLS/DIRECT DATA, LOOKUPS and CONSTANTS: the values a model reads from files beside it.

The files are read by PySD's own readers (:mod:`pysd.py_backend.external`: the
same cell ranges, missing-value filling and orientation rules as a PySD run), from
the model's folder (:func:`sdkit.structure.check_data_files` has already refused a
file outside it). The model reader takes external constants' defaults from here; the
engine makes the values data of its kernel when it compiles the model:

- a data variable is a lookup on ``Time`` per element, with the variable's
  keyword (``:INTERPOLATE:``, the default; ``:HOLD BACKWARD:``; ``:LOOK FORWARD:``)
  and its end values held outside the data's times, as PySD and Vensim do; with
  ``:RAW:`` it has a value only at the data's own times (missing ones not filled)
  and NaN at every other time, as in PySD;
- an external lookup is one lookup table per element;
- an external constant is one constant per element, which a run may override like
  any other.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from sdkit.errors import ModelFileError, UnsupportedFeature

#: PySD's AST classes of the three readers.
DATA, LOOKUPS, CONSTANTS = "GetDataStructure", "GetLookupsStructure", "GetConstantsStructure"
#: A data variable's keyword (PySD's spelling) -> the engine's lookup mode.
DATA_MODES = {None: "interpolate", "interpolate": "interpolate", "hold_backward": "hold_backward",
              "look_forward": "look_forward", "raw": "raw"}


def is_external(ast: Any, *kinds: str) -> bool:
    """True when ``ast`` is PySD's structure of one of the ``kinds`` of reader (``DATA``, ``LOOKUPS``, ``CONSTANTS``)."""
    return type(ast).__name__ in kinds


def raw_data_names(abstract_model: Any) -> set[str]:
    """Model names of the data variables read with ``:RAW:`` (NaN between the data's times by definition)."""
    return {element.name for element in abstract_model.sections[0].elements
            if any(getattr(component, "keyword", None) == "raw" for component in element.components)}


def data_mode(keyword: str | None, variable: str) -> str:
    """The lookup mode of a data variable written with ``keyword``."""
    if keyword not in DATA_MODES:
        raise UnsupportedFeature(
            f"data keyword ':{str(keyword).replace('_', ' ').upper()}:' of variable '{variable}' is not "
            "supported by the ensemble engine; use engine='pysd'"
        )
    return DATA_MODES[keyword]


#: what :func:`read` read: (call, elements, folder, the file's size and time) -> (x, values), read-only
_READ: dict[tuple, tuple[np.ndarray | None, np.ndarray]] = {}
#: the most calls :data:`_READ` keeps (the oldest goes first)
_READ_KEPT = 256


def read(
    ast: Any, coords: dict[str, list[str]], folder: Path, variable: str, mode: str = "interpolate"
) -> tuple[np.ndarray | None, np.ndarray]:
    """(x, values) read by one GET call for the elements ``coords``.

    ``mode`` is a data variable's lookup mode, which PySD also uses to fill missing values.

    ``x`` is the time or lookup axis (None for constants); ``values`` has that axis
    first (if any), then one axis per entry of ``coords``, in its order. Both are
    read-only: a file unchanged since (same size and modification time) is read once,
    for the model reader and the engine alike.
    """
    kind = type(ast).__name__
    if kind == DATA:
        args = (ast.file, ast.tab, ast.time_row_or_col, ast.cell, mode)
    elif kind == LOOKUPS:
        args = (ast.file, ast.tab, ast.x_row_or_col, ast.cell)
    else:
        args = (ast.file, ast.tab, ast.cell)
    try:
        stat = (folder / ast.file).stat()
        key: tuple | None = (kind, args, tuple((k, tuple(v)) for k, v in coords.items()), str(folder.resolve()),
                             stat.st_size, stat.st_mtime_ns)
    except (OSError, TypeError):  # a missing file (the reader says so below) or an indirect name
        key = None
    if key not in _READ:
        x, values = _read(kind, args, coords, folder, variable, ast)
        for array in (x, values):
            if array is not None:
                array.setflags(write=False)
        if key is None:
            return x, values
        if len(_READ) >= _READ_KEPT:
            del _READ[next(iter(_READ))]
        _READ[key] = x, values
    return _READ[key]


def _read(kind: str, args: tuple, coords: dict[str, list[str]], folder: Path, variable: str,
          ast: Any) -> tuple[np.ndarray | None, np.ndarray]:
    from pysd.py_backend import external

    reader = {DATA: external.ExtData, LOOKUPS: external.ExtLookup}.get(kind, external.ExtConstant)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source = reader(*args, coords, folder, coords, f"_ext_{variable}")
            source.initialize()
    except Exception as exc:  # PySD's readers raise many kinds for a missing file, sheet or cell
        reason = str(exc).strip().splitlines()[-1][:160].rstrip(".") if str(exc).strip() else type(exc).__name__
        raise ModelFileError(
            f"variable '{variable}' cannot read {ast.file!r} (cell {ast.cell!r}): {reason}; "
            "check the file beside the model, its sheet or separator and the cell"
        ) from None
    finally:
        external.Excels.clean()
    return _axis_and_values(source.data, list(coords))


def _axis_and_values(data: Any, dims: list[str]) -> tuple[np.ndarray | None, np.ndarray]:
    if not hasattr(data, "dims"):  # a single constant
        return None, np.asarray(float(data))
    axis = [d for d in data.dims if d not in dims]
    ordered = data.transpose(*axis, *dims)
    x = np.asarray(ordered[axis[0]].values, dtype=float) if axis else None
    return x, np.asarray(ordered.values, dtype=float)


def coords_of(subscripts: list[str], ranges: dict[str, list[str]]) -> dict[str, list[str]]:
    """The elements a component's subscripts stand for, one entry per subscript: a range
    gives its elements, a single element itself (keyed by a range that holds it)."""
    coords: dict[str, list[str]] = {}
    for sub in subscripts:
        if sub in ranges:
            coords[sub] = list(ranges[sub])
        else:
            key = next((r for r, elements in ranges.items() if sub in elements and r not in coords), sub)
            coords[key] = [sub]
    return coords


def element_values(values: np.ndarray, coords: dict[str, list[str]], elements: tuple[str, ...]) -> np.ndarray:
    """The values (over the time or lookup axis, if any) of one element of the component."""
    index = tuple(list(coords.values())[i].index(e) for i, e in enumerate(elements))
    leading = values.ndim - len(index)
    return values[(slice(None),) * leading + index]
