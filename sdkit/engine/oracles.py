"""The engine's three oracles: PySD, pysimlin and Vensim's own outputs, as comparable tables.

Every result is a :class:`Series` table: one float array per *column key*,
the variable's model name in canonical form (lower case, runs of spaces and
underscores as one ``_``, quotes dropped) plus ``[element, ...]`` for
subscripted variables, so that the three tools' naming conventions meet.
:func:`max_rel_diff` compares two tables at the times they share.

pysimlin (Simlin's independent reader and simulator) is a test-only
dependency: :func:`simlin_series` raises :class:`OracleUnavailable` when it
is missing or cannot run a model.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdkit.locate import canonical

#: values smaller than this are compared absolutely (relative error of 0 vs 1e-17 is noise)
REL_FLOOR = 1e-6
_TIME_COLUMNS = {"time", "dt", "time_step", "initial_time", "final_time", "saveper"}


class OracleUnavailable(Exception):
    """The oracle is not installed or cannot run the model; the message says why."""


@dataclass
class Series:
    """Saved times and one array per column key."""

    times: np.ndarray
    columns: dict[str, np.ndarray]


def _from_frame(frame) -> Series:
    columns = {}
    for col in frame.columns:
        key = canonical(str(col))
        if key in _TIME_COLUMNS:
            continue
        values = np.asarray(frame[col].values, dtype=float)
        columns[key] = values
    return Series(np.asarray(frame.index, dtype=float), columns)


def engine_series(kernel, result) -> Series:
    """Table of an engine result (first sample) with the engine's model names."""
    columns = {}
    for py, data in result.data.items():
        base = canonical(kernel.names.get(py, py))
        dims = kernel.var_dims.get(py, ())
        values = np.asarray(data[0], dtype=float)
        if not dims:
            columns[base] = values
            continue
        for index in np.ndindex(*values.shape[1:]):
            elems = [kernel.dims[d][i] for d, i in zip(dims, index, strict=True)]
            columns[canonical(f"{base}[{','.join(elems)}]")] = values[(slice(None), *index)]
    return Series(np.asarray(result.times, dtype=float), columns)


def simlin_series(path: Path) -> Series:
    """Run ``path`` with pysimlin at its own time settings."""
    try:
        import simlin
    except ImportError:
        raise OracleUnavailable("pysimlin is not installed (pip install pysimlin)") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = simlin.load(str(path)).run(analyze_loops=False).results
    except Exception as exc:  # pysimlin raises its own hierarchy and cffi errors
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise OracleUnavailable(f"pysimlin cannot run {Path(path).name}: {first[:200]}") from None
    return _from_frame(frame)


def pysd_model(path: Path):
    """PySD's model of ``path``, translated in a temporary copy (PySD writes a .py beside it),
    reading its data files beside ``path``; the copy is removed once the model is loaded."""
    import pysd

    tmp = Path(tempfile.mkdtemp(prefix="sdkit-oracle-"))
    copy = tmp / Path(path).name
    shutil.copy(path, copy)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = pysd.read_vensim(str(copy), initialize=False)
            for external in model._external_elements:
                external.root = Path(path).parent.resolve()
            model.initialize()
            return model
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise OracleUnavailable(f"PySD cannot read {Path(path).name}: {first[:200]}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pysd_series(model, final_time: float | None = None) -> Series:
    """Run a PySD model (from :func:`pysd_model`) and return its table."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kwargs = {"final_time": final_time} if final_time is not None else {}
            frame = model.run(**kwargs)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise OracleUnavailable(f"PySD cannot run the model: {first[:200]}") from None
    return _from_frame(frame)


def max_rel_diff(a: Series, b: Series) -> tuple[float, str, int]:
    """Largest ``|x - y| / max(|x|, |y|, REL_FLOOR)`` over shared columns and times.

    Returns the difference, the column where it occurs and the number of shared columns.
    """
    ia, ib = _shared_times(a.times, b.times)
    worst, where = 0.0, ""
    shared = sorted(set(a.columns) & set(b.columns))
    for key in shared:
        x, y = a.columns[key][ia], b.columns[key][ib]
        with np.errstate(invalid="ignore"):
            scale = np.maximum(np.maximum(np.abs(x), np.abs(y)), REL_FLOOR)
            diff = np.where(x == y, 0.0, np.abs(x - y) / scale)
        diff = np.where(np.isnan(diff), np.inf, diff)
        if diff.size and diff.max() > worst:
            worst, where = float(diff.max()), key
    return worst, where, len(shared)


def _shared_times(ta: np.ndarray, tb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ia, ib = [], []
    for i, t in enumerate(ta):
        j = int(np.searchsorted(tb, t - 1e-9))
        if j < tb.size and abs(tb[j] - t) <= 1e-9 * max(1.0, abs(t)):
            ia.append(i)
            ib.append(j)
    return np.asarray(ia, dtype=int), np.asarray(ib, dtype=int)
