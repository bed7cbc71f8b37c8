"""Sweep definitions: read and validate a sensitivity study written as TOML.

A study file names a model, a scenario to start from, a method, the parameters
to vary (uniform ranges or distributions) and the scalar or time-resolved outputs
to score::

    model = "../models/kissinger_core.mdl"   # relative to this file
    scenario = "liberal"
    method = "sobol"                          # sobol | morris | efast | pawn | delta
    samples = 1024                            # base sample size N
    seed = 20261124
    [options]                                 # method options (see sdkit.sensitivity.methods)
    calc_second_order = false
    [parameters]
    "legitimacy emphasis" = [0.45, 0.80]      # uniform on [low, high]
    "restraint threshold" = {dist = "truncnorm", low = 0.0, high = 0.2, mean = 0.1, sd = 0.03}
    "supremacy claim[liberal]" = [0.6, 0.95]  # one element of a subscripted constant
    [outputs.final_authority]
    variable = "Institutional Authority"
    metric = "final"
    [convergence]                             # optional
    sizes = [128, 256, 512, 1024]
    threshold = 0.1

Reading checks the file on its own (:func:`read_study`); :func:`check_against_model`
checks names against a loaded model. Both raise one-line :class:`StudyError` or
:class:`~sdkit.errors.ParameterError` messages that name the bad entry and the fix.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdkit.errors import ParameterError, SdkitError
from sdkit.io import looked_for, read_toml
from sdkit.sensitivity.methods import METHODS as METHOD_RECORDS

if TYPE_CHECKING:
    from sdkit.model import Model

__all__ = [
    "METHODS",
    "METRICS",
    "ConvergenceSpec",
    "OutputSpec",
    "ParameterSpec",
    "Study",
    "StudyError",
    "check_against_model",
    "n_runs",
    "problem",
    "read_study",
    "study_from_dict",
    "valid_sizes",
]


class StudyError(SdkitError):
    """A sweep definition file is malformed (unknown key, method, metric or sample size)."""


#: Method names study files accept; each method's record is in :mod:`sdkit.sensitivity.methods`.
METHODS = tuple(METHOD_RECORDS)

#: Metrics turning one trajectory into a number (or, for ``series``, keeping it).
METRICS = (
    "final", "min", "max", "mean", "first_below", "first_above",
    "years_below", "years_above", "series",
)
_THRESHOLD_METRICS = {"first_below", "first_above", "years_below", "years_above"}
_DISTS = {"unif": ("low", "high"), "norm": ("mean", "sd"), "lognorm": ("mean", "sd"),
          "truncnorm": ("low", "high", "mean", "sd")}
_TOP_KEYS = {"model", "scenario", "method", "samples", "seed", "options", "parameters",
             "outputs", "convergence", "description", "chunk_size"}


@dataclass(frozen=True)
class ParameterSpec:
    """One varied parameter: its model name and its distribution.

    ``dist`` is ``"unif"`` (``low``, ``high``), ``"norm"`` (``mean``, ``sd``), ``"lognorm"``
    (``mean``, ``sd`` of the logarithm) or ``"truncnorm"`` (``low``, ``high``, ``mean``, ``sd``).
    """

    name: str
    dist: str
    args: tuple[float, ...]

    @property
    def salib_bounds(self) -> list[float]:
        """Bounds in SALib's convention for ``dist`` (the same order as ``args``)."""
        return list(self.args)


@dataclass(frozen=True)
class OutputSpec:
    """One scored output: a model variable and the metric that reduces its trajectory.

    ``window`` restricts the metric to ``[t0, t1]``; ``threshold`` is needed by the
    ``first_*`` and ``years_*`` metrics; ``never`` is the value of ``first_*`` when
    the threshold is never crossed (default: the end of the window, i.e. censored);
    ``step`` thins a ``series`` to saved times a multiple of ``step`` after its start.
    """

    name: str
    variable: str
    metric: str
    window: tuple[float, float] | None = None
    threshold: float | None = None
    never: float | None = None
    description: str = ""
    step: float | None = None


@dataclass(frozen=True)
class ConvergenceSpec:
    """Base sample sizes at which to recompute the indices, and the verdict threshold."""

    sizes: tuple[int, ...]
    threshold: float = 0.1


@dataclass(frozen=True)
class Study:
    """A validated sweep definition (see the module docstring for the file format)."""

    name: str
    model: Path
    method: str
    samples: int
    seed: int
    parameters: tuple[ParameterSpec, ...]
    outputs: tuple[OutputSpec, ...]
    scenario: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    convergence: ConvergenceSpec | None = None
    description: str = ""
    chunk_size: int = 16384
    source: Path | None = None
    text: str = ""

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def scalar_outputs(self) -> list[OutputSpec]:
        return [o for o in self.outputs if o.metric != "series"]

    @property
    def series_outputs(self) -> list[OutputSpec]:
        return [o for o in self.outputs if o.metric == "series"]

    def canonical(self) -> dict[str, Any]:
        """Everything that decides the numbers, as plain JSON-able data (no file paths)."""
        data = asdict(self)
        for key in ("source", "text", "description", "name"):
            data.pop(key)
        data["model"] = self.model.name
        data["parameter_order"] = self.parameter_names
        data["parameters"] = {p.pop("name"): p for p in data["parameters"]}
        data["outputs"] = {o.pop("name"): o for o in data["outputs"]}
        return json.loads(json.dumps(data, default=str))


def _fail(where: str, message: str) -> StudyError:
    return StudyError(f"{where}: {message}")


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(where, f"{key} must be a finite number, got {value!r}")
    return float(value)


def _parameter(where: str, name: str, value: Any) -> ParameterSpec:
    here = f"{where} [parameters] {name!r}"
    if isinstance(value, list):
        if len(value) != 2:
            raise _fail(here, f"a uniform range is [low, high], got {value!r}")
        dist, args = "unif", tuple(_number(here, "bound", v) for v in value)
    elif isinstance(value, dict):
        dist = value.get("dist", "unif")
        if dist not in _DISTS:
            raise _fail(here, f"unknown dist {dist!r}; use one of {', '.join(_DISTS)}")
        unknown = set(value) - {"dist", *_DISTS[dist]}
        if unknown:
            raise _fail(here, f"unknown key {sorted(unknown)[0]!r} for dist {dist!r}; "
                              f"it takes {', '.join(_DISTS[dist])}")
        missing = [k for k in _DISTS[dist] if k not in value]
        if missing:
            raise _fail(here, f"dist {dist!r} needs {', '.join(_DISTS[dist])}; {missing[0]!r} is missing")
        args = tuple(_number(here, k, value[k]) for k in _DISTS[dist])
    else:
        raise _fail(here, f"give a range [low, high] or a table {{dist = ...}}, got {value!r}")
    spec = ParameterSpec(name, dist, args)
    if dist in ("unif", "truncnorm"):
        low, high = args[0], args[1]
        if not low < high:
            raise ParameterError(f"{here}: range low ({low:g}) must be below high ({high:g}); swap or widen it")
    if dist in ("norm", "lognorm", "truncnorm") and not args[-1] > 0:
        raise ParameterError(f"{here}: sd must be positive, got {args[-1]:g}")
    return spec


def _output(where: str, name: str, value: Any) -> OutputSpec:
    here = f"{where} [outputs.{name}]"
    if not isinstance(value, dict):
        raise _fail(here, "must be a table with `variable` and `metric`")
    allowed = {"variable", "metric", "window", "threshold", "never", "description", "step"}
    unknown = set(value) - allowed
    if unknown:
        raise _fail(here, f"unknown key {sorted(unknown)[0]!r}; use {', '.join(sorted(allowed))}")
    if not isinstance(value.get("variable"), str):
        raise _fail(here, "needs `variable = \"<model variable name>\"`")
    metric = value.get("metric", "final")
    if metric not in METRICS:
        raise _fail(here, f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    window = value.get("window")
    if window is not None:
        if not isinstance(window, list) or len(window) != 2:
            raise _fail(here, f"window must be [t0, t1], got {window!r}")
        window = (_number(here, "window", window[0]), _number(here, "window", window[1]))
        if not window[0] < window[1]:
            raise _fail(here, f"window start {window[0]:g} must be before its end {window[1]:g}")
    threshold = value.get("threshold")
    if metric in _THRESHOLD_METRICS:
        if threshold is None:
            raise _fail(here, f"metric {metric!r} needs `threshold = <number>`")
        threshold = _number(here, "threshold", threshold)
    elif threshold is not None:
        raise _fail(here, f"metric {metric!r} takes no threshold; remove it")
    never = value.get("never")
    if never is not None:
        if not metric.startswith("first_"):
            raise _fail(here, f"`never` applies only to first_below/first_above, not {metric!r}")
        never = _number(here, "never", never)
    step = value.get("step")
    if step is not None:
        if metric != "series":
            raise _fail(here, f"`step` applies only to metric 'series', not {metric!r}")
        step = _number(here, "step", step)
        if not step > 0:
            raise _fail(here, f"step must be positive, got {step:g}")
    return OutputSpec(name, value["variable"], metric, window, threshold, never,
                      str(value.get("description", "")), step)


def valid_sizes(method: str, options: dict[str, Any] | None = None) -> str:
    """Plain-words statement of the base sample sizes ``method`` accepts."""
    record = METHOD_RECORDS[method]
    return record.sizes({**record.defaults(), **(options or {})})[1]


def _check_size(where: str, method: str, n: Any, options: dict[str, Any]) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise _fail(where, f"samples must be an integer, got {n!r}")
    rule = METHOD_RECORDS[method].size_problem(n, options)
    if rule:
        raise ParameterError(f"{where}: sample size {n} is not usable for {method}; use {rule}")
    return n


def n_runs(method: str, samples: int, n_params: int, options: dict[str, Any] | None = None) -> int:
    """Number of model runs a method needs for base size ``samples`` and ``n_params`` parameters.

    Sobol: ``N (D + 2)`` (``N (2D + 2)`` with second order); Morris: ``N (D + 1)``
    (``N`` trajectories); eFAST: ``N D``; PAWN and delta: ``N``.
    """
    record = METHOD_RECORDS[method]
    return record.runs(samples, n_params, {**record.defaults(), **(options or {})})


def _options(where: str, method: str, raw: Any) -> dict[str, Any]:
    """The method's options: defaults, then the file's values, each checked against its range."""
    record = METHOD_RECORDS[method]
    if not isinstance(raw, dict):
        raise _fail(where, "[options] must be a table")
    bad = set(raw) - set(record.options)
    if bad:
        raise _fail(where, f"option {sorted(bad)[0]!r} does not apply to {method}; "
                           f"it takes {', '.join(record.options)}")
    options = {**record.defaults(), **raw}
    problem = record.option_problem(options)
    if problem:
        raise ParameterError(f"{where} [options]: {method} {problem}")
    return options


def study_from_dict(data: dict[str, Any], name: str = "study", base: Path | None = None,
                    text: str = "", source: Path | None = None) -> Study:
    """Validate a parsed definition; ``base`` is the folder relative paths start from."""
    where = str(source.name if source else name)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _fail(where, f"unknown key {sorted(unknown)[0]!r}; use {', '.join(sorted(_TOP_KEYS))}")
    if not isinstance(data.get("model"), str):
        raise _fail(where, "needs `model = \"path/to/model.mdl\"` (relative to the study file)")
    model = Path(data["model"])
    if not model.is_absolute() and base is not None:
        model = (base / model).resolve()
    method = data.get("method")
    if method not in METHOD_RECORDS:
        raise _fail(where, f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    options = _options(where, method, data.get("options", {}))
    samples = _check_size(where, method, data.get("samples"), options)
    seed = data.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _fail(where, f"needs `seed = <non-negative integer>` for reproducible samples, got {seed!r}")
    raw_parameters = data.get("parameters")
    if not isinstance(raw_parameters, dict) or not raw_parameters:
        raise _fail(where, "needs a [parameters] table with at least one parameter")
    parameters = tuple(_parameter(where, k, v) for k, v in raw_parameters.items())
    _check_method_parameters(where, METHOD_RECORDS[method], parameters)
    raw_outputs = data.get("outputs")
    if not isinstance(raw_outputs, dict) or not raw_outputs:
        raise _fail(where, "needs at least one [outputs.<name>] table")
    outputs = tuple(_output(where, k, v) for k, v in raw_outputs.items())
    convergence = None
    if "convergence" in data:
        convergence = _convergence(where, data["convergence"], method, samples, options)
    scenario = data.get("scenario")
    if scenario is not None and not isinstance(scenario, str):
        raise _fail(where, f"scenario must be a scenario name, got {scenario!r}")
    chunk_size = data.get("chunk_size", 16384)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise _fail(where, f"chunk_size must be a positive integer, got {chunk_size!r}")
    return Study(
        name=name, model=model, method=method, samples=samples, seed=seed,
        parameters=parameters, outputs=outputs, scenario=scenario, options=options,
        convergence=convergence, description=str(data.get("description", "")),
        chunk_size=chunk_size, source=source, text=text,
    )


def _check_method_parameters(where: str, record: Any, parameters: tuple[ParameterSpec, ...]) -> None:
    if record.uniform_only and any(p.dist != "unif" for p in parameters):
        raise _fail(where, f"{record.name} needs uniform ranges [low, high] for every parameter")
    if len(parameters) < record.min_parameters:
        raise _fail(where, f"{record.name} needs at least {record.min_parameters} parameters")
    for p in parameters:
        if p.name.endswith(record.reserved_suffixes):
            raise _fail(where, f"{record.name} cannot vary {p.name!r}: SALib reserves names ending in "
                               f"{', '.join(record.reserved_suffixes)}; vary it with another method")


def _convergence(where: str, value: Any, method: str, samples: int, options: dict) -> ConvergenceSpec:
    here = f"{where} [convergence]"
    if METHOD_RECORDS[method].convergence is None:
        supported = " and ".join(m.name for m in METHOD_RECORDS.values() if m.convergence)
        raise _fail(here, f"convergence is computed for {supported} studies, not {method}; remove it")
    if not isinstance(value, dict) or not isinstance(value.get("sizes"), list) or not value["sizes"]:
        raise _fail(here, "needs sizes = [n1, n2, ...] (increasing base sample sizes)")
    unknown = set(value) - {"sizes", "threshold"}
    if unknown:
        raise _fail(here, f"unknown key {sorted(unknown)[0]!r}; use sizes, threshold")
    sizes = []
    for n in value["sizes"]:
        _check_size(here, method, n, options)
        if n > samples:
            raise ParameterError(f"{here}: size {n} exceeds the study's samples ({samples}); "
                                 "raise samples or drop that size")
        sizes.append(n)
    if sizes != sorted(set(sizes)):
        raise _fail(here, f"sizes must be strictly increasing, got {sizes}")
    threshold = _number(here, "threshold", value.get("threshold", 0.1))
    if not threshold > 0:
        raise _fail(here, f"threshold must be positive, got {threshold:g}")
    return ConvergenceSpec(tuple(sizes), threshold)


def read_study(path: str | Path) -> Study:
    """Read and validate a sweep definition file.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` study file; its ``model`` path is relative to the file's folder.

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        The file is missing, not TOML, or has an unknown key, method or metric.
    ParameterError
        A range has low >= high or the sample size is not usable for the method.
    """
    path = Path(path)
    if not path.exists():
        raise StudyError(f"study file {path} does not exist ({looked_for(path)}); give the path of a sweep "
                         ".toml, e.g. sensitivity/liberal_sobol.toml")
    text, data = read_toml(path, "study file", StudyError)
    return study_from_dict(data, name=path.stem, base=path.parent, text=text, source=path)


def check_against_model(study: Study, model: Model, allow_outside_range: bool = False) -> None:
    """Check that every parameter is a constant and every output variable exists in ``model``.

    A subscripted constant is varied one element at a time, named as in scenario files
    (``"supremacy claim[liberal]"``, ``"coalition[liberal, sovereign]"``). Unless
    ``allow_outside_range``, every parameter's bounds lie within the constant's
    documented range (the ``[min, max]`` of its units field).

    Raises
    ------
    ParameterError
        Naming the parameter or output and the command that lists the model's names,
        or the parameter whose bounds leave its range.
    """
    from sdkit.scenarios import refuse_time_constant, target_of

    seen: dict[tuple[str, tuple[str, ...]], str] = {}
    for parameter in study.parameters:
        try:
            override = target_of(model, parameter.name)
            refuse_time_constant(model, parameter.name, override.py_name)
        except ParameterError as exc:
            raise ParameterError(f"study {study.name} [parameters]: {exc}") from None
        key = (override.py_name, override.elements)
        if key in seen:
            raise StudyError(f"study {study.name} [parameters]: {parameter.name!r} and "
                             f"{seen[key]!r} are the same constant; keep one")
        seen[key] = parameter.name
        outside = bounds_outside_range(parameter, model.variables[override.py_name].limits)
        if outside and not allow_outside_range:
            raise ParameterError(f"study {study.name} [parameters]: {parameter.name!r} {outside}; narrow "
                                 "its bounds, or pass --allow-outside-range to sweep them anyway")
        dims = model.variables[override.py_name].dims
        if dims and not override.elements:
            example = ", ".join(model.dims.get(d, ["?"])[0] for d in dims)
            raise StudyError(f"study {study.name} [parameters]: {parameter.name!r} is subscripted over "
                             f"({', '.join(dims)}); vary one element at a time, e.g. "
                             f"\"{model.variables[override.py_name].name}[{example}]\"")
    for output in study.outputs:
        try:
            model.resolve(output.variable)
        except ParameterError as exc:
            raise ParameterError(f"study {study.name} [outputs.{output.name}]: {exc}") from None
    if study.scenario is not None and study.scenario not in model.scenarios:
        raise StudyError(f"study {study.name}: {model.unknown_scenario(study.scenario)}")


def bounds_outside_range(parameter: ParameterSpec, limits: tuple[float | None, float | None]) -> str:
    """How a parameter's distribution leaves the documented range ``limits``, or "" when it does not.

    A uniform or truncated normal distribution leaves it when a bound does; a normal
    distribution when the range is bounded; a lognormal one when the range has an upper bound
    or a lower bound above 0.
    """
    from sdkit.scenarios import range_text, values_outside

    shown = range_text(limits)
    if parameter.dist in ("unif", "truncnorm"):
        low, high = parameter.args[:2]
        outside = values_outside(limits, [low, high])
        if outside.size:
            return f"bounds [{low:g}, {high:g}] reach outside its documented range {shown}"
        return ""
    low, high = limits
    if parameter.dist == "norm" and (low is not None or high is not None):
        return f"is drawn from a normal distribution, which reaches outside its documented range {shown}"
    if parameter.dist == "lognorm" and (high is not None or (low is not None and low > 0)):
        return f"is drawn from a lognormal distribution, which reaches outside its documented range {shown}"
    return ""


def outside_ranges(study: Study, model: Model) -> list[str]:
    """The study's parameters whose distributions leave their documented ranges, for the provenance."""
    from sdkit.scenarios import target_of

    found = []
    for parameter in study.parameters:
        outside = bounds_outside_range(parameter, model.variables[target_of(model, parameter.name).py_name].limits)
        if outside:
            found.append(f"{parameter.name}: {outside}")
    return found


def problem(study: Study) -> dict[str, Any]:
    """The SALib problem dict (``num_vars``, ``names``, ``bounds``, ``dists``)."""
    return {
        "num_vars": len(study.parameters),
        "names": study.parameter_names,
        "bounds": [p.salib_bounds for p in study.parameters],
        "dists": [p.dist for p in study.parameters],
    }
