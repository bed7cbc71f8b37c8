"""Run a model for many parameter sets at once with the vectorised engine.

Samples are split into chunks; each chunk is one call of the engine's kernel, in
this process or on dask workers. Every sample is computed independently, so the
result does not depend on the chunk size or the executor. With a ``store`` folder,
each finished chunk is kept on disk and a rerun computes only the missing ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sdkit.backends.engine import parameter_arrays, run_kernel
from sdkit.errors import NonFiniteError, OutputError, ParameterError, SdkitError, SdkitWarning
from sdkit.io import write_atomic
from sdkit.locks import folder_lock, removing_temporaries
from sdkit.model import Model, TimeSettings, load_model
from sdkit.provenance import provenance_attrs
from sdkit.runs import Runs, save_times
from sdkit.scenarios import (
    Override,
    outside_range,
    overrides_for,
    range_text,
    refuse_time_constant,
    target_of,
    values_outside,
)
from sdkit.simulate import BACKENDS, label_nonfinite, run_rows, to_dataset

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 16384


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to compute one chunk: no live objects, only data."""

    model_text: bytes
    model_name: str
    start: int
    params: dict[str, np.ndarray]
    n: int
    variables: tuple[str, ...]
    save: str | tuple[float, ...]
    time: tuple[tuple[str, float], ...]


@lru_cache(maxsize=8)
def _kernel_for(model_text: bytes, model_name: str) -> Any:
    """Compile a model once per process from its checked text (nothing is written to disk)."""
    from sdkit.engine import compile_model

    return compile_model(Path(model_name), text=model_text.decode("utf-8"))


def run_chunk(task: ChunkTask) -> dict[str, np.ndarray]:
    """Simulate one chunk of samples on the engine; a non-finite value names the global sample index."""
    kernel = _kernel_for(task.model_text, task.model_name)
    try:
        result = run_kernel(kernel, task.params, task.n, task.variables, task.save, dict(task.time), task.start)
    except NonFiniteError as exc:
        raise label_nonfinite(exc, Runs(range(task.start, task.start + task.n), "sample")) from None
    return {"__times__": np.asarray(result.times), **result.data}


def columns_to_overrides(model: Model, samples: pd.DataFrame, allow_outside_range: bool = False) -> list[Override]:
    """One override (n values) per column of a samples table, for a ``Runs`` of its rows.

    Each column must name a known constant (or element) once, with numbers that are finite
    and in the documented range (unless ``allow_outside_range``); else a ParameterError."""
    if samples.shape[0] == 0:
        raise ParameterError("the samples table has no rows; give one row per run")
    if samples.shape[1] == 0:
        raise ParameterError("the samples table has no columns; give one column per parameter")
    pairs = []
    named: dict[tuple[str, tuple[str, ...]], str] = {}
    for column in samples.columns:
        override = target_of(model, str(column))
        refuse_time_constant(model, str(column), override.py_name)
        key = (override.py_name, override.elements)
        if key in named:
            raise ParameterError(
                f"columns {named[key]!r} and {str(column)!r} name the same parameter; keep one of them"
            )
        named[key] = str(column)
        values = pd.to_numeric(samples[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argmax(bad))
            raise ParameterError(
                f"column {column!r} row {row + 1}: {samples[column].iloc[row]!r} is not a finite number; "
                "fix that cell"
            )
        if not allow_outside_range:
            _refuse_outside_range(model, str(column), override.py_name, values)
        pairs.append(Override(override.py_name, values, override.elements))
    return pairs


def _refuse_outside_range(model: Model, column: str, py_name: str, values: np.ndarray) -> None:
    limits = model.variables[py_name].limits
    outside = values_outside(limits, values)
    if outside.size:
        row = int(np.flatnonzero(np.isin(values, outside))[0])
        raise ParameterError(
            f"column {column!r} row {row + 1}: {values[row]:g} is outside the documented range "
            f"{range_text(limits)} of {model.variables[py_name].name!r} ({outside.size} of {values.size} "
            "samples are); sample within the range, or pass --allow-outside-range "
            "(allow_outside_range=True) to run them anyway"
        )


def _with_outside_range(dataset: xr.Dataset, model: Model, frame: pd.DataFrame, runs: Runs,
                        scenario: str | None) -> xr.Dataset:
    """``dataset`` recording, in the attribute ``outside_range``, the values it ran outside their ranges."""
    parameters = model.scenarios[scenario].parameters if scenario is not None else {}
    outside = _outside_ranges(model, list(zip(map(str, frame.columns), runs.columns, strict=True)), parameters)
    if outside:
        dataset.attrs["outside_range"] = json.dumps(outside)
    return dataset


def _outside_ranges(model: Model, columns: list[tuple[str, Override]], parameters: dict[str, Any]) -> list[str]:
    """The scenario's settings and the sample columns outside their documented ranges."""
    found = outside_range(model, parameters)
    for column, override in columns:
        limits = model.variables[override.py_name].limits
        count = values_outside(limits, override.value).size
        if count:
            found.append(f"{column}: {count} of {np.size(override.value)} samples outside {range_text(limits)}")
    return found


def _as_frame(samples: pd.DataFrame | xr.Dataset | dict[str, Any]) -> pd.DataFrame:
    if isinstance(samples, pd.DataFrame):
        return samples
    if isinstance(samples, xr.Dataset):
        if "sample" not in samples.dims:
            raise ParameterError("the samples Dataset needs a `sample` dimension")
        return pd.DataFrame({name: samples[name].to_numpy() for name in samples.data_vars})
    return pd.DataFrame(samples)


class ChunkStore:
    """Finished chunks kept as ``.npz`` files in a folder, keyed by a fingerprint of the job.

    Each chunk file carries the SHA-256 of its inputs (the job's fingerprint, the chunk's
    index and its rows of the sample table) and of its own arrays. On loading, a chunk
    that is unreadable, truncated, computed from other inputs (e.g. swapped with another
    chunk's file) or altered is never used: it is deleted and recomputed, with a warning.
    Open a store with :meth:`open`, which holds the folder's lock.
    """

    def __init__(self, folder: Path, fingerprint: str, table: np.ndarray | None = None, chunk_size: int = 1) -> None:
        self.folder = folder
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"--store {folder} is a file; give a folder for the finished chunks")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot use --store {folder}: {exc.strerror or exc}; give a writable folder") from None
        self.fingerprint = fingerprint
        self.table = table
        self.chunk_size = chunk_size
        marker = folder / "fingerprint.txt"
        if marker.exists() and marker.read_bytes() != fingerprint.encode():
            raise SdkitError(
                f"{folder} holds chunks of a different job (definition, model or samples changed); "
                "use another output folder or delete it to start afresh"
            )
        if not marker.exists():
            write_atomic(marker, lambda tmp: tmp.write_text(fingerprint))

    @classmethod
    @contextlib.contextmanager
    def open(cls, folder: Path, fingerprint: str, table: np.ndarray | None = None, chunk_size: int = 1,
             option: str = "--store") -> Iterator[ChunkStore]:
        """Lock ``folder``, remove temporary files a killed writer left there, and yield the store."""
        with folder_lock(folder, option), removing_temporaries(folder):
            yield cls(folder, fingerprint, table, chunk_size)

    def path(self, index: int) -> Path:
        return self.folder / f"chunk-{index:06d}.npz"

    def inputs(self, index: int) -> str:
        """SHA-256 of what chunk ``index`` is computed from."""
        digest = hashlib.sha256(self.fingerprint.encode())
        digest.update(f"chunk {index}".encode())
        if self.table is not None:
            start = index * self.chunk_size
            digest.update(np.ascontiguousarray(self.table[start:start + self.chunk_size], dtype=float).tobytes())
        return digest.hexdigest()

    def load(self, index: int) -> dict[str, np.ndarray] | None:
        """The stored chunk, or None when it is missing or not usable (then it is deleted)."""
        path = self.path(index)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as archive:
                data = {key: archive[key] for key in archive.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            return self._discard(path, f"is unreadable ({type(exc).__name__})")
        inputs, content = str(data.pop(_INPUTS, "")), str(data.pop(_CONTENT, ""))
        if inputs != self.inputs(index):
            return self._discard(path, "was computed from other inputs")
        if content != _content_digest(data):
            return self._discard(path, "does not match its recorded checksum")
        return data

    def _discard(self, path: Path, reason: str) -> None:
        warnings.warn(f"chunk file {path} {reason}; it is deleted and recomputed", SdkitWarning, stacklevel=4)
        path.unlink(missing_ok=True)
        return None

    def save(self, index: int, data: dict[str, np.ndarray]) -> None:
        stamped = {**data, _INPUTS: np.array(self.inputs(index)), _CONTENT: np.array(_content_digest(data))}

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                np.savez(handle, **stamped)

        write_atomic(self.path(index), write)


_INPUTS, _CONTENT = "__inputs_sha256__", "__content_sha256__"


def _content_digest(data: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for key in sorted(data):
        array = np.ascontiguousarray(data[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _open_store(folder: Path, model: Model, frame: pd.DataFrame, base: list[Override], variables: Sequence[str],
                save: Any, time: dict, chunk_size: int, engine: str) -> contextlib.AbstractContextManager[ChunkStore]:
    """The locked chunk store of an ensemble, keyed by everything that decides its numbers."""
    table = np.ascontiguousarray(frame.to_numpy(dtype=float))
    digest = hashlib.sha256(table.tobytes())
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(json.dumps([[o.py_name, np.asarray(o.value).tolist(), o.elements] for o in base]).encode())
    if engine != "engine":  # the engine's fingerprints stay those of stores written before backends had names
        digest.update(f"engine {engine}".encode())
    fingerprint = _fingerprint(model, digest.hexdigest(), variables, save, time, chunk_size)
    return ChunkStore.open(folder, fingerprint, table, chunk_size)


def _fingerprint(model: Model, params_digest: str, variables: Sequence[str], save: Any, time: dict, chunk_size: int) -> str:
    return json.dumps(
        {
            "model_sha256": model.sha256,
            "params": params_digest,
            "variables": list(variables),
            "save": save,
            "time": time,
            "chunk_size": chunk_size,
        },
        sort_keys=True,
    )


def ensemble(
    model: Model | str | Path,
    samples: pd.DataFrame | xr.Dataset | dict[str, Any],
    variables: Sequence[str] | None = None,
    save: str | Sequence[float] = "all",
    scenario: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    executor: Any = None,
    store: str | Path | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    max_memory: float | None = None,
    engine: str = "engine",
    allow_outside_range: bool = False,
) -> xr.Dataset:
    """Simulate one run per row of ``samples``.

    Parameters
    ----------
    model : Model or path
    samples : DataFrame, Dataset with a ``sample`` dim, or dict of columns
        One column per constant (model or Python-safe name, ``name[element]`` for one
        element of a subscripted constant), one row per run.
    variables : list of str, optional
        Variables to return; default: the model's stocks.
    save : "all", "final" or a list of times
        Every saved time (SAVEPER), final values only, or the given times.
    scenario : str, optional
        A scenario whose parameters and time settings every run starts from.
    chunk_size : int
        Samples per engine call; bounds memory. Results do not depend on it.
    executor : dask.distributed.Client, optional
        Map chunks to the client's workers; ``None`` runs in this process.
    store : path, optional
        Folder keeping finished chunks; a rerun computes only the missing ones.
    progress : callable, optional
        Wraps the iterable of finished chunks (e.g. ``tqdm.tqdm``).
    max_memory : float, optional
        Bytes the results may take; default half the machine's memory. A larger
        ensemble is refused before any run, with its estimate.
    engine : {"engine", "pysd"}
        The backend (:mod:`sdkit.backends`); only the engine's chunks go to dask workers.
    allow_outside_range : bool
        As in :func:`sdkit.run.run`.

    Returns
    -------
    xarray.Dataset
        Dims ``(sample, time)`` plus subscripts (``(sample,)`` plus subscripts for final values).
    """
    if not isinstance(model, Model):
        model = load_model(model, allow_outside_range=allow_outside_range)
    if chunk_size < 1:
        raise ParameterError(f"chunk_size must be at least 1, got {chunk_size}")
    if engine not in BACKENDS:
        raise ParameterError(f"unknown engine {engine!r}; use one of {', '.join(BACKENDS)}")
    frame = _as_frame(samples)
    base, time = starting_point(model, scenario, allow_outside_range)
    runs = Runs(range(len(frame)), "sample", tuple(base),
                columns=tuple(columns_to_overrides(model, frame, allow_outside_range)))
    message = model.check_time_step(time.largest_step, {o.py_name: o.value for o in (*runs.shared, *runs.columns)})
    if message:
        warnings.warn(f"ensemble of {model.path.name}: {message}", SdkitWarning, stacklevel=2)
    names = [model.resolve(v) for v in variables] if variables else model.stocks
    save_key: str | tuple[float, ...] = save if isinstance(save, str) else tuple(float(t) for t in save)
    if isinstance(save_key, str) and save_key not in ("all", "final"):
        raise ParameterError(f"save must be 'all', 'final' or a list of times, got {save!r}")
    check_result_size(model, len(frame), names, save_key, time, max_memory)
    starts = list(range(0, runs.n, chunk_size))
    chunks = [runs.take(start, min(start + chunk_size, runs.n)) for start in starts]
    store_context = (_open_store(Path(store), model, frame, base, names, save_key, time.as_dict(), chunk_size, engine)
                     if store is not None else contextlib.nullcontext())
    with store_context as chunk_store:
        compute = _chunk_runner(model, chunks, names, save_key, time, executor, engine)
        results = gather_chunks(len(starts), compute, chunk_store, progress)
    dataset = _assemble(model, results, names, save_key, scenario, frame, engine)
    return _with_outside_range(dataset, model, frame, runs, scenario) if allow_outside_range else dataset


def starting_point(model: Model, scenario: str | None,
                   allow_outside_range: bool = False) -> tuple[list[Override], TimeSettings]:
    """The overrides and time settings of the scenario every run starts from (the file's own: none).

    With :func:`columns_to_overrides`, what a ``Runs`` of samples is made of (the ensemble's
    and :func:`sdkit.loops.samples.score_samples`'s); an unknown scenario is a ParameterError."""
    if scenario is None:
        return [], model.time
    if scenario not in model.scenarios:
        raise ParameterError(model.unknown_scenario(scenario))
    chosen = model.scenarios[scenario]
    return overrides_for(model, chosen.parameters, allow_outside_range), model.time.replace(chosen.time)


def _chunk_runner(model: Model, chunks: list[Runs], names: list[str], save: str | tuple[float, ...],
                  time: TimeSettings, executor: Any, engine: str) -> Callable[[list[int]], Iterable[tuple[int, dict]]]:
    """``compute(missing)`` for :func:`gather_chunks`: engine chunks as tasks (dask-ready), others in this process."""
    if engine == "engine":
        return lambda missing: _execute(missing, lambda index: _task(model, chunks[index], names, save, time), executor)
    if executor is not None:
        log.warning("the %s backend runs in this process; the dask executor is not used", engine)

    def compute(missing: list[int]) -> Iterator[tuple[int, dict]]:
        for index in missing:
            times, data = run_rows(model, chunks[index], time, names, save, engine)
            yield index, {"__times__": times, **data}

    return compute


def _task(model: Model, runs: Runs, names: list[str], save: str | tuple[float, ...], time: TimeSettings) -> ChunkTask:
    """The engine's work on one chunk, as data a dask worker can take."""
    return ChunkTask(
        model_text=model.text.encode("utf-8"),
        model_name=str(model.path),
        start=runs.labels[0],
        params=parameter_arrays(model, runs),
        n=runs.n,
        variables=tuple(names),
        save=save,
        time=tuple(sorted(time.fixed().items())),
    )


def gather_chunks(
    count: int,
    compute: Callable[[list[int]], Iterable[tuple[int, dict[str, np.ndarray]]]],
    store: ChunkStore | None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> dict[int, dict[str, np.ndarray]]:
    """All ``count`` chunks: stored ones loaded, the rest computed and stored as each finishes.

    ``compute(missing)`` yields ``(index, data)`` for the missing chunk indices, in any order.
    """
    results: dict[int, dict[str, np.ndarray]] = {}
    missing = []
    for index in range(count):
        stored = store.load(index) if store else None
        if stored is None:
            missing.append(index)
        else:
            results[index] = stored
    if len(missing) < count:
        log.info("reusing %d stored chunks of %d", count - len(missing), count)
    finished = compute(missing)
    for index, data in progress(finished) if progress else finished:
        results[index] = data
        if store:
            store.save(index, data)
    return results


def _execute(indices: list[int], task: Callable[[int], ChunkTask], executor: Any) -> Iterable[tuple[int, dict]]:
    """Yield ``(index, data)`` as chunks finish, in this process or on dask workers."""
    if executor is None:
        for index in indices:
            yield index, run_chunk(task(index))
        return
    from dask.distributed import as_completed

    futures = {}
    for index in indices:
        future = executor.submit(run_chunk, task(index), pure=False, retries=2)
        futures[future] = index
    for future in as_completed(futures):
        yield futures[future], future.result()


def check_result_size(model: Model, n: int, names: Sequence[str], save: Any, time: TimeSettings,
                      max_memory: float | None = None) -> None:
    """Refuse, before any run, an ensemble whose results would not fit in ``max_memory`` bytes."""
    if save == "final":
        n_times = 1
    elif save == "all":
        n_times = len(save_times(time))
    else:
        n_times = len(save)
    values = sum(int(np.prod([len(model.dims[d]) for d in model.variables[v].dims])) for v in names)
    estimate = 8.0 * n * n_times * values
    limit = default_memory_limit() if max_memory is None else max_memory
    if estimate > limit:
        raise ParameterError(
            f"the ensemble's results would take {estimate / 1e9:.3g} GB ({n:,} runs x {n_times:,} times x "
            f"{values:,} values), more than the limit of {limit / 1e9:.3g} GB; keep fewer times "
            "(--final, --times), fewer --vars or fewer runs, or raise the limit with --max-memory GB"
        )


def default_memory_limit() -> float:
    """Half the machine's memory, in bytes."""
    import psutil

    return psutil.virtual_memory().total / 2


def _assemble(model: Model, results: dict[int, dict], names: list[str], save: Any, scenario: str | None,
              frame: pd.DataFrame, engine: str) -> xr.Dataset:
    ordered = [results[i] for i in sorted(results)]
    data = {name: np.concatenate([chunk[name] for chunk in ordered]) for name in names}
    parameters = (("sample", "param"), frame.to_numpy(dtype=float), {"long_name": "parameter values of each run"})
    dataset = to_dataset(model, "sample", np.arange(len(frame)), ordered[0]["__times__"], data, final=save == "final",
                         extra_vars={"parameters": parameters}, extra_coords={"param": [str(c) for c in frame.columns]})
    dataset.attrs.update(provenance_attrs(model, engine=engine, scenario=scenario or "", save=save))
    return dataset
