"""The sweep pipeline: definition -> sample -> evaluate -> metrics -> analyse -> files.

The analytic study of the tests (final stock = 10 (a + 2 b + 3 c), c drawn from a
range twice as wide as a's and b's):

>>> import tempfile
>>> from pathlib import Path
>>> import sdkit
>>> from sdkit.sensitivity import read_study, run_study
>>> study = read_study(Path(sdkit.__file__).parents[1] / "tests" / "data" / "sens_linear.toml")
>>> folder = tempfile.TemporaryDirectory()
>>> result = run_study(study, out=Path(folder.name) / "linear")
>>> total = result.indices["ST"].sel(output="final_stock")
>>> total.idxmax().item()  # analytically 36/41 of the variance
'rate c'
>>> total.sel(param="unused rate").item()
0.0
>>> folder.cleanup()

Evaluation runs the model once per sample row, in chunks. A model file runs through
:func:`sdkit.ensemble.ensemble`: on the vectorised engine (in this process or on dask
workers), or on PySD (in this process) when the engine cannot compile it. A :class:`FunctionModel` (a plain
numpy function) runs in this process. With an output folder, each finished chunk is kept
in ``<out>/chunks`` until the results are written; ``resume=True`` computes only the
missing chunks and, because the sample and the bootstrap are seeded, gives bit-identical
results. The folder is locked while the sweep runs (:mod:`sdkit.sensitivity.folder`).

Files written to the output folder:

``study.toml``, ``study.json``
    The definition as given and the normalised definition a resume is checked against.
``chunks/``
    Finished chunks while the sweep runs; deleted once the results are written, unless
    ``keep_chunks=True``.
``samples.nc``
    The sample ``(sample, param)``.
``outputs.nc``
    Every scored output per run: ``(sample,)`` or ``(sample, time)``.
``indices.nc``
    Indices of the scalar outputs, dims ``(output, param)``.
``indices_time.nc``
    Indices of the ``series`` outputs at every saved time, dims ``(output, param, time)``.
``convergence.nc``
    With a ``[convergence]`` table: dims ``(size, output, param)`` and a verdict per output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sdkit.check_samples import answerable, checks_over_samples
from sdkit.checks import BatchResult, Check, variables_needed
from sdkit.ensemble import ChunkStore, ensemble, gather_chunks
from sdkit.io import write_netcdf
from sdkit.model import Model, load_model
from sdkit.provenance import provenance_attrs, versions
from sdkit.scenarios import DEFAULT_SCENARIO
from sdkit.sensitivity.analyse import analyse_outputs, warn_index_problems
from sdkit.sensitivity.budget import Limits, check_budget
from sdkit.sensitivity.convergence import convergence as convergence_of
from sdkit.sensitivity.folder import CHUNKS, prepare_out, remove_chunks, sweep_folder
from sdkit.sensitivity.methods import METHODS
from sdkit.sensitivity.metrics import compute_outputs
from sdkit.sensitivity.sample import sample, sample_frame
from sdkit.sensitivity.spec import Study, StudyError, check_against_model, outside_ranges, problem
from sdkit.simulate import BACKENDS, choose_engine

__all__ = [
    "FunctionModel",
    "SweepResult",
    "analyse_study",
    "evaluate",
    "load_study_model",
    "plan",
    "run_study",
]

log = logging.getLogger(__name__)

Progress = Callable[[Iterable[Any]], Iterable[Any]]


@dataclass(frozen=True)
class FunctionModel:
    """A model given as a numpy function, for tests and analytic benchmarks.

    ``function(x)`` takes a ``(n, n_params)`` array (columns in the study's parameter order)
    and returns ``{variable: (n, len(times)) array}``.
    """

    function: Callable[[np.ndarray], dict[str, np.ndarray]]
    times: np.ndarray = field(default_factory=lambda: np.zeros(1))
    name: str = "function"


@dataclass
class SweepResult:
    """Everything a sweep produced; ``time_resolved`` and ``convergence`` may be None."""

    study: Study
    x: np.ndarray
    outputs: dict[str, xr.DataArray]
    indices: xr.Dataset | None
    time_resolved: xr.Dataset | None = None
    convergence: xr.Dataset | None = None
    out: Path | None = None
    seconds: float = 0.0
    attrs: dict[str, Any] = field(default_factory=dict)
    #: With ``run_study(checks=...)``: each answerable check over the runs, and the checks left out.
    checks: tuple[list[BatchResult], list[Check]] | None = None


def load_study_model(study: Study, scenarios: str | Path | None = None, allow_outside_range: bool = False) -> Model:
    """Load the study's model (its scenarios from ``scenarios``, by default the file beside
    it) and check its parameters (and, unless ``allow_outside_range``, their bounds against
    the documented ranges), outputs and scenario against it."""
    if not Path(study.model).is_file():
        where = f"`model =` in {study.source}" if study.source else f"the model of study {study.name}"
        raise StudyError(f"{where} names {study.model}, which does not exist; a relative path is read "
                         "from the study file's folder")
    model = load_model(study.model, scenarios=scenarios, allow_outside_range=allow_outside_range)
    check_against_model(study, model, allow_outside_range)
    return model


def saved_times(study: Study, model: Model | FunctionModel) -> int:
    """Number of saved times of each run (the scenario's time settings for a model file)."""
    if isinstance(model, FunctionModel):
        return len(model.times)
    settings = model.time
    if study.scenario is not None:
        settings = settings.replace(model.scenarios[study.scenario].time)
    if settings.varying:  # SAVEPER or the run's span change with Time: count the clock's saved times
        from sdkit.runs import save_times

        return len(save_times(settings))
    return int((settings.final_time - settings.initial_time) / settings.saveper + 1e-9) + 1


def _chunked(x: np.ndarray, run_rows: Callable[[np.ndarray], dict[str, np.ndarray]], times: np.ndarray,
             chunk_size: int, store: Path | None, fingerprint: str, progress: Progress | None) -> dict[str, np.ndarray]:
    """Run ``run_rows`` chunk by chunk in this process, keeping finished chunks in ``store``."""
    starts = range(0, x.shape[0], chunk_size)

    def compute(missing: list[int]) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        for index in missing:
            start = starts[index]
            yield index, run_rows(x[start:start + chunk_size])

    opened = ChunkStore.open(store, fingerprint, x, chunk_size, "--out") if store is not None else contextlib.nullcontext()
    with opened as chunk_store:
        results = gather_chunks(len(starts), compute, chunk_store, progress)
    return {k: np.concatenate([results[i][k] for i in sorted(results)]) for k in results[0]}



def evaluate(study: Study, model: Model | FunctionModel, x: np.ndarray, *, executor: Any = None,
             store: str | Path | None = None, progress: Progress | None = None,
             engine: str = "auto", extra: Sequence[str] = (),
             allow_outside_range: bool = False) -> tuple[xr.Dataset, dict[str, str]]:
    """Run the model for every row of the sample.

    Parameters
    ----------
    study : Study
    model : Model or FunctionModel
    x : numpy.ndarray
        Shape ``(runs, n_params)``, columns in the study's parameter order.
    executor : dask.distributed.Client, optional
        Map chunks to its workers (engine only); ``None`` runs in this process.
    store : path, optional
        Folder keeping finished chunks; a rerun computes only the missing ones.
    progress : callable, optional
        Wraps the iterable of finished chunks (e.g. ``tqdm``).
    engine : {"auto", "engine", "pysd"}
        :func:`sdkit.simulate.choose_engine` picks the backend.
    extra : sequence of str
        Further variables to keep (those the checks of ``run_study(checks=...)`` read).
    allow_outside_range : bool
        Run sample values outside the constants' documented ranges.

    Returns
    -------
    (xarray.Dataset, dict)
        Trajectories ``(sample, time)`` of the variables the outputs need, and the map from
        the study's variable names to the Dataset's names.
    """
    wanted = list(dict.fromkeys([*(o.variable for o in study.outputs), *extra]))
    if isinstance(model, FunctionModel):
        names = {v: v for v in wanted}
        fingerprint = json.dumps({"study": study.canonical(), "function": model.name,
                                  "chunk_size": study.chunk_size}, sort_keys=True)
        data = _chunked(x, model.function, model.times, study.chunk_size,
                        Path(store) if store else None, fingerprint, progress)
        missing = [v for v in wanted if v not in data]
        if missing:
            raise StudyError(f"study {study.name}: the function model returns no variable {missing[0]!r}; "
                             f"it returns {', '.join(data)}")
        runs = xr.Dataset({v: (("sample", "time"), np.asarray(data[v], dtype=float)) for v in wanted},
                          coords={"sample": np.arange(x.shape[0]), "time": model.times})
        return runs, names
    names = {v: model.resolve(v) for v in wanted}
    py_names = list(dict.fromkeys(names.values()))
    runs = ensemble(model, sample_frame(study, x), variables=py_names, save="all", scenario=study.scenario,
                    chunk_size=study.chunk_size, executor=executor, store=store, progress=progress,
                    engine=choose_engine(model, engine), allow_outside_range=allow_outside_range)
    return runs, names


def _attrs(study: Study, model: Model | FunctionModel, runs: int, **extra: Any) -> dict[str, Any]:
    fields = {
        "definition": study.text or json.dumps(study.canonical(), sort_keys=True),
        "seed": study.seed, "sampler": METHODS[study.method].sampler, "method": study.method,
        "scenario": study.scenario or "", "study": study.name, "samples": study.samples,
        "runs": runs, **extra,
    }
    if isinstance(model, Model):
        return provenance_attrs(model, **fields)
    attrs = {"model_file": model.name, "model_sha256": "",
             **{f"{k}_version": v for k, v in versions().items()}}
    for key, value in fields.items():
        attrs[key] = value if isinstance(value, str) else json.dumps(value)
    attrs["method"], attrs["scenario"] = study.method, study.scenario or ""
    return attrs


def _state(study: Study, model: Model | FunctionModel, checks: Sequence[Check] = ()) -> dict[str, Any]:
    sha = model.sha256 if isinstance(model, Model) else model.name
    state: dict[str, Any] = {"study": study.canonical(), "model_sha256": sha}
    if checks:  # the chunks keep the variables the checks read too
        state["check_variables"] = _check_variables(study, checks)
    return state


def _check_variables(study: Study, checks: Sequence[Check]) -> list[str]:
    return variables_needed(answerable(checks, [study.scenario or DEFAULT_SCENARIO])[0])


def _outputs_dataset(outputs: dict[str, xr.DataArray], x: np.ndarray, study: Study, attrs: dict) -> xr.Dataset:
    data = {}
    for name, array in outputs.items():
        if "time" in array.dims:
            array = array.rename(time=f"time_{name}")
        data[name] = array
    dataset = xr.Dataset(data, coords={"sample": np.arange(x.shape[0])})
    dataset.attrs.update(attrs)
    return dataset


def _samples_dataset(x: np.ndarray, study: Study, attrs: dict) -> xr.Dataset:
    dataset = xr.Dataset(
        {"x": (("sample", "param"), x, {"long_name": "parameter values of each run"})},
        coords={"sample": np.arange(x.shape[0]), "param": study.parameter_names},
    )
    dataset["dist"] = ("param", [p.dist for p in study.parameters], {"long_name": "distribution"})
    dataset["dist_args"] = ("param", [json.dumps(p.args) for p in study.parameters],
                            {"long_name": "distribution arguments (low, high or mean, sd)"})
    dataset.attrs.update(attrs)
    return dataset


def analyse_study(study: Study, x: np.ndarray, outputs: dict[str, xr.DataArray],
                  attrs: dict[str, Any] | None = None) -> tuple[xr.Dataset | None, xr.Dataset | None]:
    """Indices of the scalar outputs and, separately, of the time-resolved ones."""
    spec = problem(study)
    scalar = {o.name: outputs[o.name] for o in study.scalar_outputs}
    series = {o.name: outputs[o.name] for o in study.series_outputs}
    indices = analyse_outputs(study.method, spec, x, scalar, study.options, study.seed, attrs) if scalar else None
    time_resolved = None
    if series:
        axes = {tuple(v["time"].to_numpy()) for v in series.values()}
        if len(axes) > 1:
            raise StudyError(f"study {study.name}: series outputs must share one time window; "
                             "give them the same window")
        time_resolved = analyse_outputs(study.method, spec, x, series, study.options, study.seed, attrs)
    for dataset in (indices, time_resolved):
        if dataset is not None:
            warn_index_problems(dataset)
    return indices, time_resolved


def _compute(study: Study, model: Model | FunctionModel, folder: Path | None, checks: Sequence[Check] = (),
             **evaluation: Any) -> SweepResult:
    """Sample, evaluate (chunks kept in ``folder/chunks``), score, check and analyse."""
    if checks and not isinstance(model, Model):
        raise StudyError(f"study {study.name}: checks read the runs of a model file, not of a function model")
    x = sample(study)
    runs, names = evaluate(study, model, x, store=folder / CHUNKS if folder is not None else None,
                           extra=_check_variables(study, checks), **evaluation)
    outputs = compute_outputs(runs, list(study.outputs), names)
    checked = None
    if checks:
        varied = {name: x[:, i] for i, name in enumerate(study.parameter_names)}
        checked = checks_over_samples(model, checks, runs, study.scenario, varied)
    outside = outside_ranges(study, model) if isinstance(model, Model) else []
    attrs = _attrs(study, model, x.shape[0], **({"outside_range": outside} if outside else {}))
    indices, time_resolved = analyse_study(study, x, outputs, attrs)
    conv = None
    if study.convergence is not None and study.scalar_outputs:
        conv = convergence_of(study, x, {o.name: outputs[o.name] for o in study.scalar_outputs})
        conv.attrs.update({k: v for k, v in attrs.items() if k not in conv.attrs})
        for name, flag in zip(conv["output"].values, conv["converged"].values, strict=True):
            if not flag:
                log.info("output %s has not converged at N=%d", name, study.convergence.sizes[-1])
    result = SweepResult(study, x, outputs, indices, time_resolved, conv, folder)
    result.attrs, result.checks = attrs, checked
    return result


def _write(result: SweepResult, folder: Path) -> None:
    attrs, study, x = result.attrs, result.study, result.x
    write_netcdf(_samples_dataset(x, study, attrs), folder / "samples.nc")
    write_netcdf(_outputs_dataset(result.outputs, x, study, attrs), folder / "outputs.nc")
    for dataset, name in ((result.indices, "indices.nc"), (result.time_resolved, "indices_time.nc"),
                          (result.convergence, "convergence.nc")):
        if dataset is not None:
            write_netcdf(dataset, folder / name)


def run_study(study: Study, out: str | Path | None = None, *, model: Model | FunctionModel | None = None,
              executor: Any = None, resume: bool = False, force: bool = False,
              progress: Progress | None = None, engine: str = "auto",
              limits: Limits | None = None, keep_chunks: bool = False,
              checks: Sequence[Check] = (), allow_outside_range: bool = False) -> SweepResult:
    """Run a sweep: sample, evaluate (chunked, resumable), score, analyse, write.

    Parameters
    ----------
    study : Study
        From :func:`~sdkit.sensitivity.spec.read_study`.
    out : path, optional
        Output folder; ``None`` keeps everything in memory (no chunk store, no files).
    model : Model or FunctionModel, optional
        Default: the study's model file, loaded and checked.
    executor : dask.distributed.Client, optional
    resume : bool
        Continue a sweep in ``out``: only missing chunks are computed. Refused when the
        definition or the model changed.
    force : bool
        Start afresh in a non-empty ``out`` (its chunks and result files are deleted).
        Either way, ``out`` is locked while the sweep runs: a second sweep into it is refused.
    progress : callable, optional
        Wraps the iterable of finished chunks.
    engine : {"auto", "engine", "pysd"}
    limits : Limits, optional
        Largest planned runs and memory to accept (default :class:`~sdkit.sensitivity.budget.Limits`).
    keep_chunks : bool
        Keep ``out/chunks`` after the results are written (by default they are deleted;
        an unfinished sweep always keeps them, so it can be resumed).
    checks : sequence of Check
        Checks to read off the runs (those that set nothing and read the study's scenario):
        each gets a pass share and margins over the runs in ``SweepResult.checks``.
    allow_outside_range : bool
        Sweep bounds outside the constants' documented ranges (the ``[min, max]`` of
        their units fields) instead of refusing them; the results' attribute
        ``outside_range`` lists them.

    Returns
    -------
    SweepResult

    Raises
    ------
    OutputError
        ``out`` is not empty and neither ``resume`` nor ``force`` is given, another sweep
        is writing to it, or its ``study.json`` is damaged on resume.
    StudyError
        Resuming against a changed definition (the message names what changed).
    ParameterError
        The planned runs or memory exceed ``limits``.
    """
    started = time.perf_counter()
    if model is None:
        model = load_study_model(study, allow_outside_range=allow_outside_range)
    elif isinstance(model, Model):
        check_against_model(study, model, allow_outside_range)
    check_budget(study, saved_times(study, model), limits)
    folder = Path(out) if out is not None else None
    with sweep_folder(folder) if folder is not None else contextlib.nullcontext():
        if folder is not None:
            prepare_out(folder, _state(study, model, checks), study, resume, force)
        result = _compute(study, model, folder, checks, executor=executor, progress=progress, engine=engine,
                          allow_outside_range=allow_outside_range)
        if folder is not None:
            _write(result, folder)
            if not keep_chunks:
                remove_chunks(folder)
    result.seconds = time.perf_counter() - started
    return result


def plan(study: Study, model: Model | None = None, engine: str = "auto", probe: int = 1024,
         limits: Limits | None = None, allow_outside_range: bool = False) -> dict[str, Any]:
    """Number of runs and an estimated time, measured on a small batch of the study's own sample.

    Returns
    -------
    dict
        ``runs``, ``chunks``, ``engine`` ("engine" or "pysd"), ``runs_per_second``,
        ``estimated_seconds`` (evaluation only; analysis adds a little) and ``memory``
        (estimated peak bytes).

    Raises
    ------
    ParameterError
        The planned runs or memory exceed ``limits`` (checked before anything is drawn).
    """
    if model is None:
        model = load_study_model(study)
    cost = check_budget(study, saved_times(study, model), limits)
    runs = cost["runs"]
    backend = choose_engine(model, engine)
    x = sample(study)
    batch = x[: min(probe if BACKENDS[backend].vectorised else 3, runs)]
    small = dataclasses.replace(study, chunk_size=batch.shape[0])
    best = np.inf
    for _ in range(2):  # the first call compiles; keep the faster
        started = time.perf_counter()
        evaluate(small, model, batch, engine=backend, allow_outside_range=allow_outside_range)
        best = min(best, time.perf_counter() - started)
    rate = batch.shape[0] / max(best, 1e-9)
    return {"runs": runs, "chunks": -(-runs // study.chunk_size), "engine": backend,
            "runs_per_second": rate, "estimated_seconds": runs / rate, "memory": cost["memory"],
            "definition_sha256": hashlib.sha256(study.text.encode()).hexdigest()}
