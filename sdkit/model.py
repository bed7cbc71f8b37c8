"""Load a Vensim model file: its variables, time settings, scenarios and backends.

A :class:`Model` is read from the model file's own structure (PySD's translator to
its abstract model) without executing anything the file contains. The two ways of
running it, the vectorised engine and PySD, are created on demand.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.errors import (
    ModelFileError,
    ParameterError,
    ScenarioError,
    SdkitWarning,
    UnsupportedFeature,
)
from sdkit.io import read_input
from sdkit.safety import check_model_text, decode_model, vensim_file
from sdkit.structure import (
    check_data_files,
    check_structure,
    check_subscripts,
    clean_name,
    refuse_macros,
    refuse_reserved,
    walk,
)

if TYPE_CHECKING:
    from sdkit.scenarios import Scenario

CONTROL_NAMES = {"initial_time", "final_time", "time_step", "saveper"}
#: Limits that keep a mistyped time setting from running for hours or filling memory.
MAX_STEPS = 10_000_000
MAX_SAVED = 1_000_000


@dataclass(frozen=True)
class Variable:
    """One model variable.

    Attributes
    ----------
    name : str
        The model's own name, e.g. ``"Institutional Authority"``.
    py_name : str
        PySD's Python-safe name, e.g. ``"institutional_authority"``.
    kind : str
        ``"stock"``, ``"constant"``, ``"lookup"``, ``"auxiliary"`` or ``"control"``.
    units : str
    limits : tuple of (float or None, float or None)
    comment : str
    dims : tuple of str
        Subscript range names, empty for a scalar.
    default : float, nested tuple of float, or None
        A constant's value as the file writes it (a tuple over its elements when it is
        subscripted); None for other kinds, and for constants written element by element.
    """

    name: str
    py_name: str
    kind: str
    units: str
    limits: tuple[float | None, float | None]
    comment: str
    dims: tuple[str, ...] = ()
    default: float | tuple | None = None


@dataclass(frozen=True)
class TimeSettings:
    """Simulation time settings in the model's time units (years)."""

    initial_time: float
    final_time: float
    time_step: float
    saveper: float

    def replace(self, overrides: dict[str, float]) -> TimeSettings:
        """Return a copy with some settings replaced; unknown keys are errors."""
        unknown = set(overrides) - set(self.__dataclass_fields__)
        if unknown:
            raise ParameterError(
                f"unknown time setting {sorted(unknown)[0]!r}; "
                f"use one of {', '.join(self.__dataclass_fields__)}"
            )
        try:
            values = {**self.__dict__, **{k: float(v) for k, v in overrides.items()}}
        except OverflowError:
            raise ParameterError("a time setting is too large a number; give a finite number") from None
        settings = TimeSettings(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ParameterError when the settings cannot define a simulation."""
        if not self.time_step > 0:
            raise ParameterError(f"time_step must be positive, got {self.time_step}")
        if not self.saveper > 0:
            raise ParameterError(f"saveper must be positive, got {self.saveper}")
        if not self.final_time > self.initial_time:
            raise ParameterError(
                f"final_time ({self.final_time}) must be after initial_time ({self.initial_time})"
            )
        span = self.final_time - self.initial_time
        if self.time_step > span:
            raise ParameterError(
                f"time_step ({self.time_step:g}) is longer than the run ({span:g}); "
                "use a smaller time_step"
            )
        if span / self.time_step > MAX_STEPS:
            raise ParameterError(
                f"{span:g} time units at time_step {self.time_step:g} is {span / self.time_step:.3g} "
                f"steps, more than {MAX_STEPS:.0e}; use a larger time_step or a shorter run"
            )
        if span / self.saveper > MAX_SAVED:
            raise ParameterError(
                f"saveper {self.saveper:g} would save {span / self.saveper:.3g} times, more than "
                f"{MAX_SAVED:.0e}; use a larger saveper"
            )


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _translate(path: Path, text: str) -> Any:
    """Parse checked model text into PySD's abstract model, with errors that name the equation."""
    try:
        vensim = vensim_file(path, text)
        vensim.parse()
        return vensim.get_abstract_model()
    except ModelFileError:
        raise
    except RecursionError:
        raise ModelFileError(
            f"cannot parse model file {path.name}: an equation is nested too deeply; "
            "split it into intermediate variables"
        ) from None
    except Exception as exc:  # PySD raises many exception types for malformed files
        where = _failing_equation(path, text)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if where.startswith("stock"):
            raise ModelFileError(f"cannot parse model file {path.name}: {where}") from exc
        if where:
            raise ModelFileError(
                f"cannot parse model file {path.name}: {where}: {reason[:160]}; fix that equation"
            ) from exc
        equations = text.split(_SKETCH_MARK, 1)[0].rstrip()
        if equations and not equations.endswith("|") and _SKETCH_MARK not in text:
            lines = [x.strip() for x in equations.rsplit("|", 1)[-1].splitlines()]
            last = next((x for x in lines if x and not x.startswith("{")), lines[-1])[:40]
            raise ModelFileError(
                f"cannot parse model file {path.name}: it ends inside an equation ({last!r}), so it "
                "was probably cut short; restore the end of the file from a saved copy"
            ) from exc
        raise ModelFileError(
            f"cannot parse model file {path.name}: {reason[:200]}; fix the equation it names "
            "or open the file in Vensim to locate the error"
        ) from exc


_INTEG_ONE_ARGUMENT = "missing 1 required positional argument: 'initial'"


def _failing_equation(path: Path, text: str) -> str:
    """Parse the file equation by equation to name the first one PySD rejects ('' if none)."""
    from sdkit.engine.locate import canonical, equation_lines

    try:
        vensim = vensim_file(path, text)
        vensim.parse(parse_all=False)
        for section in vensim.sections:
            section.parse(parse_all=False)
            for element in section.elements:
                try:
                    component = element.parse()
                    if hasattr(component, "expression"):
                        component.parse()
                except Exception as exc:  # noqa: BLE001 - locating the failure, any type
                    lhs = element.equation.split("=", 1)[0].strip().splitlines()[0][:60]
                    line = equation_lines(text).get(canonical(lhs.split("[")[0]), "?")
                    if _INTEG_ONE_ARGUMENT in str(exc):
                        return f"stock {lhs!r} (line {line}) has no initial value, write INTEG(flow, initial value)"
                    return f"equation {lhs!r} (line {line}) cannot be parsed"
    except Exception:  # noqa: BLE001 - the file-level error message is still given
        return ""
    return ""


_SKETCH_MARK = "\\\\\\---///"

#: Model files above this size are refused before parsing: PySD's parser takes about
#: 3 ms per equation (a 4 MB model file, some 35,000 equations, takes about two minutes).
#: Raise it with the environment variable ``SDKIT_MAX_MODEL_MB``.
MAX_MODEL_BYTES = 4_000_000


#: Longer equations are refused: PySD's parser and code generator recurse once per
#: operator and take tens of seconds (then overflow the stack) on equations this long.
MAX_EQUATION_CHARS = 20_000


def _check_equation_lengths(text: str, path: Path) -> None:
    position = 0
    for equation in text.split(_SKETCH_MARK, 1)[0].split("|"):
        if len(equation) > MAX_EQUATION_CHARS:
            name = equation.strip().split("=", 1)[0].strip()[:60]
            line = text.count("\n", 0, position) + 1 + equation[: len(equation) - len(equation.lstrip())].count("\n")
            raise ModelFileError(
                f"{path.name} line {line}: the equation of {name!r} is {len(equation):,} characters "
                f"long, more than {MAX_EQUATION_CHARS:,}; split it into intermediate variables"
            )
        position += len(equation) + 1


def _max_model_bytes() -> int:
    text = os.environ.get("SDKIT_MAX_MODEL_MB", "")
    try:
        return int(float(text) * 1_000_000) if text else MAX_MODEL_BYTES
    except ValueError:
        raise ModelFileError(
            f"SDKIT_MAX_MODEL_MB={text!r} is not a number; set it to a size in MB, e.g. 20"
        ) from None

@dataclass(frozen=True)
class TimeConstant:
    """A constant that sets how fast part of the model moves.

    ``tau = value / order`` for a time (``Year``: a divisor, or a SMOOTH/DELAY time of
    that order) and ``tau = 1 / value`` for a rate (``1/Year``, a multiplier).
    """

    py_name: str
    name: str
    kind: str
    default: float
    order: float = 1.0

    def tau(self, value: float) -> float:
        if self.kind == "rate":
            return 1.0 / abs(value) if value else float("inf")
        return abs(value) / self.order if value else float("inf")


def _unit_key(units: str) -> str:
    return units.strip().lower().replace(" ", "").rstrip("s")


def find_time_constants(abstract_model: Any) -> dict[str, TimeConstant]:
    """Constants used as time constants: divisors and SMOOTH/DELAY times in time units, rates in 1/time."""
    from pysd.translators.structures import abstract_expressions as ae

    section = abstract_model.sections[0]
    elements = {clean_name(e.name): e for e in section.elements}
    time_step = elements.get("time_step")
    time_unit = _unit_key(str(time_step.units or "")) if time_step else ""
    if not time_unit:
        return {}
    constants: dict[str, Any] = {}
    for key, element in elements.items():
        ast = element.components[0].ast
        if key not in CONTROL_NAMES and len(element.components) == 1 and isinstance(ast, int | float):
            constants[key] = element
    found: dict[str, TimeConstant] = {}

    def keep(candidate: TimeConstant) -> None:
        old = found.get(candidate.py_name)
        if old is None or candidate.tau(candidate.default) < old.tau(old.default):
            found[candidate.py_name] = candidate

    def note(node: Any, kind: str, order: float = 1.0, where: str = "", any_units: bool = False) -> None:
        if _is_number(node) and where:  # a literal time: fixed, it cannot be overridden
            keep(TimeConstant(f"{where}: {float(node):g}", f"the number {float(node):g} in {where}", kind, float(node), order))
            return
        if not isinstance(node, ae.ReferenceStructure) or node.reference not in constants:
            return
        element = constants[node.reference]
        units = _unit_key(str(element.units or ""))
        wanted = time_unit if kind == "time" else f"1/{time_unit}"
        if units != wanted and not any_units:  # a DELAY/SMOOTH time is a time whatever its units say
            return
        keep(TimeConstant(node.reference, element.name, kind, float(element.components[0].ast), order))

    for element in section.elements:
        for component in element.components:
            for node in walk(component.ast, enter_stateful=True):
                if isinstance(node, ae.ArithmeticStructure):
                    for operator, argument in zip(node.operators, node.arguments[1:], strict=False):
                        if operator == "/":
                            note(argument, "time")
                    if "*" in node.operators:
                        for argument in node.arguments:
                            note(argument, "rate")
                if isinstance(node, ae.IntegStructure):
                    for inner in walk(node.flow):
                        if isinstance(inner, ae.ArithmeticStructure):
                            for operator, argument in zip(inner.operators, inner.arguments[1:], strict=False):
                                if operator == "/":
                                    note(argument, "time", where=f"the flow of {element.name}")
                for field_name in ("smooth_time", "delay_time", "average_time"):
                    if hasattr(node, field_name) and hasattr(node, "__dataclass_fields__"):
                        order = getattr(node, "order", 1)
                        order = float(order) if _is_number(order) and order > 0 else 1.0
                        note(getattr(node, field_name), "time", order, where=f"a delay or smooth of {element.name}", any_units=True)
    return found


def _is_number(node: Any) -> bool:
    return isinstance(node, int | float) and not isinstance(node, bool)


def _kind_of(element: Any) -> str:
    from pysd.translators.structures import abstract_expressions as ae

    component = element.components[0]
    ast = component.ast
    if type(component).__name__ == "AbstractLookup" or isinstance(
        ast, ae.LookupsStructure | ae.GetLookupsStructure
    ):
        return "lookup"
    if isinstance(ast, ae.IntegStructure):
        return "stock"
    if all(_number_of(c.ast) is not None for c in element.components):
        return "constant"
    return "auxiliary"


def _variables_of(abstract_model: Any) -> dict[str, Variable]:
    """Variables of the main section, named exactly as PySD names them."""
    from pysd.builders.python.python_model_builder import ModelBuilder

    builder = ModelBuilder(abstract_model)
    section = builder.sections[0]
    abstract_section = abstract_model.sections[0]
    variables: dict[str, Variable] = {}
    for element, element_builder in zip(abstract_section.elements, section.elements, strict=True):
        section.namespace.add_to_namespace(element.name)
        py_name = section.namespace.namespace[element.name]
        kind = "control" if py_name in CONTROL_NAMES else _kind_of(element)
        limits = tuple(None if v is None else float(v) for v in (element.limits or (None, None)))
        variables[py_name] = Variable(
            name=element.name,
            py_name=py_name,
            kind=kind,
            units=str(element.units or ""),
            limits=(limits + (None, None))[:2],
            comment=str(element.documentation or "").strip(),
            dims=tuple(element_builder.subscripts),
            default=_default_of(element) if kind == "constant" else None,
        )
    return variables


def _default_of(element: Any) -> float | tuple | None:
    """The value a constant's file gives, read from its expression (never by running it)."""
    if len(element.components) != 1:
        return None
    value = _number_of(element.components[0].ast)
    if value is None:
        return None
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else _as_tuple(array)


def _as_tuple(values: np.ndarray) -> tuple:
    return tuple(_as_tuple(v) if np.ndim(v) else float(v) for v in values)


def _number_of(ast: Any) -> float | np.ndarray | None:
    """The number (or array) an expression writes literally, possibly negated; None for anything else."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(ast, int | float | np.ndarray) and not isinstance(ast, bool):
        return ast
    if isinstance(ast, ae.ArithmeticStructure) and ast.operators == ["negative"]:
        inner = _number_of(ast.arguments[0])
        return None if inner is None else -np.asarray(inner, dtype=float)
    return None


@dataclass(repr=False)
class Model:
    """A model file, read and ready to run.

    Create it with :func:`load_model`. Running never changes it: each run starts
    from the file's own values.
    """

    path: Path
    sha256: str
    variables: dict[str, Variable]
    time: TimeSettings
    dims: dict[str, list[str]]
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    time_constants: dict[str, TimeConstant] = field(default_factory=dict)
    #: The checked, decoded text of the file: what every translator is given.
    text: str = field(default="", repr=False, compare=False)
    #: The scenarios file read (or looked for, when there is none).
    scenarios_file: Path | None = None

    def unknown_scenario(self, name: str) -> str:
        """The message for a scenario this model does not define: where sdkit looked, and the fix."""
        where = f" (looked for {self.scenarios_file})" if self.scenarios_file else ""
        if not self.scenarios:
            return (f"{self.path.name} has no scenario {name!r}: it has no scenarios file{where}; "
                    "write one there or pass --scenarios FILE")
        return (f"unknown scenario {name!r} for {self.path.name}; known: {', '.join(self.scenarios)} "
                f"(from {self.scenarios_file}); pass --scenarios FILE to read another file")

    def __repr__(self) -> str:
        counts = self._counts()
        scenarios = ", ".join(list(self.scenarios)[:5]) + (", ..." if len(self.scenarios) > 5 else "")
        return (f"<Model {self.name}: {counts['stock']} stocks, {counts['constant']} constants, "
                f"{counts['auxiliary']} auxiliaries; {len(self.scenarios)} scenarios ({scenarios}); "
                f"{self.time.initial_time:g} to {self.time.final_time:g} by {self.time.time_step:g}>")

    def _repr_html_(self) -> str:
        """A short summary in notebooks: counts, time settings and the scenarios."""
        from html import escape

        counts = self._counts()
        rows = "".join(f"<tr><td>{escape(s.name)}</td><td>{escape(s.description)}</td></tr>"
                       for s in self.scenarios.values())
        return (f"<b>{escape(self.name)}</b> ({escape(str(self.path))}): {counts['stock']} stocks, "
                f"{counts['constant']} constants, {counts['auxiliary']} auxiliaries; time "
                f"{self.time.initial_time:g} to {self.time.final_time:g} by {self.time.time_step:g}"
                f"<table><tr><th>scenario</th><th>description</th></tr>{rows}</table>")

    def _counts(self) -> dict[str, int]:
        from collections import Counter

        return Counter(v.kind for v in self.variables.values())

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def stocks(self) -> list[str]:
        return [v.py_name for v in self.variables.values() if v.kind == "stock"]

    @property
    def constants(self) -> list[str]:
        return [v.py_name for v in self.variables.values() if v.kind == "constant"]

    def default_outputs(self) -> list[str]:
        """The stocks and the auxiliaries: what a run returns unless told otherwise."""
        return [v.py_name for v in self.variables.values() if v.kind in ("stock", "auxiliary")]

    def resolve(self, name: str) -> str:
        """Python-safe name of a variable given its model name or Python-safe name.

        Matching is case-insensitive and treats spaces and underscores alike, as Vensim does.
        """
        if name in self.variables:
            return name
        key = clean_name(name)
        for variable in self.variables.values():
            if key in (clean_name(variable.name), variable.py_name):
                return variable.py_name
        close = [v.name for v in self.variables.values() if key[:4] in clean_name(v.name)][:3]
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise ParameterError(
            f"model {self.path.name} has no variable {name!r}{hint}; "
            f"`sdkit params {self.path}` lists them"
        )

    def resolve_parameter(self, name: str) -> str:
        """Like :meth:`resolve`, but only constants may be set."""
        py_name = self.resolve(name)
        kind = self.variables[py_name].kind
        if kind != "constant":
            raise ParameterError(
                f"{self.variables[py_name].name!r} is a {kind}, not a constant, so it cannot be "
                "set; set one of the constants it depends on instead"
            )
        return py_name

    def check_time_step(self, time_step: float, values: dict[str, Any] | None = None) -> str:
        """A warning text if ``time_step`` is too large for the fastest time constant, else "".

        Parameters
        ----------
        time_step : float
        values : dict, optional
            Python-safe name -> value (a number or an array, e.g. one value per sample)
            overriding the model's defaults.

        Euler integration of ``dx/dt = -x / tau`` oscillates for ``TIME STEP > tau`` and
        diverges for ``TIME STEP > 2 tau``; sdkit warns above ``tau / 2``.
        """
        values = values or {}
        fastest: tuple[float, TimeConstant | None, float] = (float("inf"), None, 0.0)
        for constant in self.time_constants.values():
            given = values.get(constant.py_name, constant.default)
            array = np.abs(np.asarray(given, dtype=float)).ravel()
            if constant.kind == "rate":
                value = float(array.max()) if array.size else 0.0
            else:
                nonzero = array[array > 0]
                value = float(nonzero.min()) if nonzero.size else 0.0
            tau = constant.tau(value)
            if tau < fastest[0]:
                fastest = (tau, constant, value)
        tau, constant, value = fastest
        if constant is None or not time_step > tau / 2:
            return ""
        what = f"rate {value:g}/time" if constant.kind == "rate" else f"{value:g}"
        if constant.order != 1:
            what += f" over {constant.order:g} stages"
        return (
            f"TIME STEP {time_step:g} is too large for {constant.name!r} ({what}: time constant "
            f"{tau:g}); Euler steps above half the fastest time constant are inaccurate and above "
            f"twice it unstable. Set TIME STEP to {tau / 4:g} or less"
        )

    @cached_property
    def abstract_model(self) -> Any:
        """PySD's abstract model of the checked text (the equations as syntax trees)."""
        return _translate(self.path, self.text)

    @cached_property
    def kernel(self) -> Any:
        """The vectorised engine's compiled kernel (raises UnsupportedFeature)."""
        from sdkit.engine import compile_model
        from sdkit.errors import SdkitError

        try:
            return compile_model(self.path, text=self.text or None)
        except SdkitError:
            raise
        except RecursionError:
            raise UnsupportedFeature(
                f"{self.path.name}: an equation is nested too deeply for the ensemble engine; "
                "split it into intermediate variables or use engine='pysd'"
            ) from None
        except Exception as exc:  # the engine's translator met something it does not handle
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise UnsupportedFeature(
                f"the ensemble engine cannot compile {self.path.name} ({type(exc).__name__}: "
                f"{reason}); use engine='pysd'"
            ) from exc

    def engine_supported(self, warn: bool = True) -> bool:
        """Whether the engine can run this model; warns about the fallback to PySD."""
        try:
            self.kernel  # noqa: B018 - compiling is the test
        except UnsupportedFeature as exc:
            if warn:
                warnings.warn(
                    f"{exc}; falling back to PySD for {self.path.name} (correct, but slow)",
                    SdkitWarning,
                    stacklevel=3,
                )
            return False
        return True

    @cached_property
    def pysd_source(self) -> str:
        """The Python module PySD generates for this model, built from the checked text."""
        from pysd.builders.python.python_model_builder import ModelBuilder

        abstract_model = _translate(self.path, self.text)
        with tempfile.TemporaryDirectory(prefix="sdkit-build-") as scratch:  # private, 0700
            builder = ModelBuilder(abstract_model)  # reads subscript files beside the model
            target = builder.sections[0].path = Path(scratch) / f"{self.path.stem}.py"
            builder.build_model()
            return target.read_text(encoding="utf-8")

    def pysd_model(self) -> Any:
        """A fresh PySD model, imported from the private per-user cache (the model folder stays clean).

        The generated module is stored under the hash of its own text and compared with
        that text before every import (:func:`sdkit.cache.cached_file`); data files named
        by ``GET DATA``/``GET LOOKUPS`` are read beside the model file.
        """
        import pysd

        from sdkit.cache import cache_folder, cached_file, sha256_text

        try:
            source = self.pysd_source
            folder = cache_folder("pysd", sha256_text(f"{pysd.__version__}\n{source}")[:32])
            translated = cached_file(folder, f"{self.path.stem}.py", source)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pysd_model = pysd.load(str(translated), initialize=False)
        except OSError as exc:
            raise ModelFileError(
                f"cannot prepare PySD's translation of {self.path.name}: {exc.strerror or exc}; "
                "free space in the cache folder or set SDKIT_CACHE_DIR"
            ) from None
        except ModelFileError:
            raise
        except Exception as exc:  # PySD's builder raises many types for models it cannot build
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise ModelFileError(
                f"PySD cannot build {self.path.name} ({type(exc).__name__}: {reason}); "
                "fix the equation it names, or rerun with --debug for the traceback"
            ) from exc
        for external in pysd_model._external_elements:
            external.root = self.path.parent.resolve()
        return pysd_model


def _time_settings(variables: dict[str, Variable], abstract_model: Any, path: Path) -> TimeSettings:
    from pysd.translators.structures import abstract_expressions as ae

    values: dict[str, float] = {}
    aliases: dict[str, str] = {}
    for element in abstract_model.sections[0].elements:
        key = clean_name(element.name)
        if key in CONTROL_NAMES:
            ast = element.components[0].ast
            if isinstance(ast, ae.ReferenceStructure) and ast.reference in CONTROL_NAMES - {key}:
                aliases[key] = ast.reference  # e.g. SAVEPER = TIME STEP, Vensim's default
                continue
            if _number_of(ast) is None or not isinstance(ast, int | float):
                raise ModelFileError(
                    f"{path.name}: {element.name} must be a number; "
                    "write it as a constant in the .Control section"
                )
            values[key] = float(ast)
    for key, target in aliases.items():
        if target in values:
            values[key] = values[target]
    missing = CONTROL_NAMES - set(values)
    if missing:
        raise ModelFileError(
            f"{path.name} has no {sorted(missing)[0].upper().replace('_', ' ')}; "
            "add it to the model's .Control section"
        )
    settings = TimeSettings(**values)
    try:
        settings.validate()
    except ParameterError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from None
    return settings


def _dims_of(abstract_model: Any) -> dict[str, list[str]]:
    """Subscript ranges and their elements; a copy (``B <-> A``) gets the elements of ``A``."""
    ranges = abstract_model.sections[0].subscripts
    dims = {r.name: list(r.subscripts) for r in ranges if isinstance(r.subscripts, list)}
    for subscript_range in ranges:
        if isinstance(subscript_range.subscripts, str) and subscript_range.subscripts in dims:
            dims[subscript_range.name] = list(dims[subscript_range.subscripts])
    return dims


def read_model_text(path: Path) -> tuple[bytes, str]:
    """The bytes of a model file and its checked text, the only text any translator is given.

    Raises
    ------
    ModelFileError
        Not a regular file, too large, in an encoding sdkit does not read, empty, or
        holding text PySD would run as code.
    """
    limit = _max_model_bytes()
    raw = read_input(path, "model file", ModelFileError, limit,
                     advice="split the model, or raise the limit with SDKIT_MAX_MODEL_MB")
    text = decode_model(raw, path)
    if not text.strip():
        raise ModelFileError(f"{path} is empty; save the model from Vensim as a .mdl file")
    check_model_text(text, path)
    return raw, text


def load_model(path: str | Path, scenarios: str | Path | None = None) -> Model:
    """Read a Vensim ``.mdl`` file and its scenarios.

    Parameters
    ----------
    path : str or Path
        The model file. Scenarios are read from ``<stem>.scenarios.toml`` beside it
        when that file exists.
    scenarios : str or Path, optional
        A scenarios file to read instead (for a variant that reuses its base model's
        scenarios); it must exist, and every constant it sets must be in the model.

    Returns
    -------
    Model

    Raises
    ------
    ModelFileError
        The file is missing, not a Vensim model, malformed or unsafe.
    ScenarioError
        The scenarios file beside it is malformed or names unknown parameters.
    """
    from sdkit.scenarios import load_scenarios, scenarios_path_for

    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; give the path to a .mdl file")
    if not path.exists():
        raise ModelFileError(f"model file {path} does not exist; give the path to a .mdl file")
    if path.suffix.lower() != ".mdl":
        raise ModelFileError(
            f"{path} is not a Vensim .mdl file; sdkit reads Vensim models (File > Save As .mdl)"
        )
    raw, text = read_model_text(path)
    _check_equation_lengths(text, path)
    abstract_model = _translate(path, text)
    refuse_macros(abstract_model, path)
    refuse_reserved(abstract_model, text, path)
    check_data_files(abstract_model, path)
    check_subscripts(abstract_model, text, path)
    check_structure(abstract_model, text, path)
    variables = _variables_of(abstract_model)
    model = Model(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        variables=variables,
        time=_time_settings(variables, abstract_model, path),
        dims=_dims_of(abstract_model),
        time_constants=find_time_constants(abstract_model),
    )
    scenarios_file = Path(scenarios) if scenarios is not None else scenarios_path_for(path)
    model.scenarios_file = scenarios_file.resolve()
    if scenarios is not None and not scenarios_file.is_file():
        raise ScenarioError(f"scenarios file {scenarios_file} does not exist; check the path given to --scenarios")
    if scenarios_file.exists():
        model.scenarios = load_scenarios(scenarios_file, model)
    return model
