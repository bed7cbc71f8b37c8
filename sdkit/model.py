"""Load a Vensim model file: its variables, time settings, scenarios and backends.

A :class:`Model` is read from the model file's own structure (PySD's translator to
its abstract model) without executing anything the file contains. The two ways of
running it, the vectorised engine and PySD, are created on demand.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.errors import ModelFileError, ParameterError, SdkitWarning, UnsupportedFeature
from sdkit.safety import check_model_text

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
    """

    name: str
    py_name: str
    kind: str
    units: str
    limits: tuple[float | None, float | None]
    comment: str
    dims: tuple[str, ...] = ()


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
        values = {**self.__dict__, **{k: float(v) for k, v in overrides.items()}}
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
    """Parse a Vensim file into PySD's abstract model, with errors that name the equation."""
    from pysd.translators.vensim.vensim_file import VensimFile

    try:
        vensim_file = VensimFile(path)
        vensim_file.parse()
        return vensim_file.get_abstract_model()
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
    from pysd.translators.vensim.vensim_file import VensimFile

    from sdkit.engine.locate import canonical, equation_lines

    try:
        vensim_file = VensimFile(path)
        vensim_file.parse(parse_all=False)
        for section in vensim_file.sections:
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

#: Abstract structures whose value comes from the previous step or the initial time:
#: a dependency through them does not make an algebraic loop.
_STATEFUL = (
    "IntegStructure",
    "DelayStructure",
    "DelayNStructure",
    "DelayFixedStructure",
    "SmoothStructure",
    "SmoothNStructure",
    "TrendStructure",
    "ForecastStructure",
    "SampleIfTrueStructure",
    "InitialStructure",
)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_POINT = re.compile(rf"\(\s*({_NUMBER})\s*,\s*{_NUMBER}\s*\)")
_POINTS = re.compile(
    rf"\(\s*(?:\[[^\]]*\]\s*,\s*)?((?:\(\s*{_NUMBER}\s*,\s*{_NUMBER}\s*\)\s*,?\s*){{2,}})\)"
)


def _walk(node: Any, enter_stateful: bool = False) -> Iterator[Any]:
    """Every node of a PySD abstract syntax tree, depth first (stateful structures only if asked)."""
    yield node
    if not enter_stateful and type(node).__name__ in _STATEFUL:
        return
    if isinstance(node, tuple | list):
        children: Any = node
    elif hasattr(node, "__dataclass_fields__"):
        children = [getattr(node, name) for name in node.__dataclass_fields__]
    else:
        return
    for child in children:
        yield from _walk(child, enter_stateful)


def _equation_line(text: str, name: str) -> int:
    match = re.search(rf"^[ \t]*{re.escape(name)}[ \t]*(?:\[[^\]]*\])?[ \t]*[=(:]", text, re.M | re.I)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def _at(text: str, name: str) -> str:
    line = _equation_line(text, name)
    return f" (line {line})" if line else ""


def check_structure(abstract_model: Any, text: str, path: Path) -> None:
    """Refuse models that parse but cannot be simulated, naming the variable and the fix.

    Checks duplicated definitions, references to undefined variables, unknown
    functions, algebraic loops (simultaneous equations) and lookups whose x values do
    not increase.

    Raises
    ------
    ModelFileError
    """
    from pysd.builders.python.python_functions import functionspace
    from pysd.builders.python.python_model_builder import ModelBuilder
    from pysd.translators.structures import abstract_expressions as ae

    section = abstract_model.sections[0]
    namespace = ModelBuilder(abstract_model).sections[0].namespace
    clean_of: dict[str, str] = {}
    for element in section.elements:
        namespace.add_to_namespace(element.name)
        clean_of[element.name] = _clean(element.name)
    known = set(namespace.cleanspace) | {"time"}
    macros = {_clean(s.name) for s in abstract_model.sections[1:]}
    name_of_clean = {clean: name for name, clean in clean_of.items()}
    by_clean = {namespace.cleanspace.get(clean_of[e.name], clean_of[e.name]): e for e in section.elements}
    by_clean.update({clean_of[e.name]: e for e in section.elements})
    for element in section.elements:
        seen_subscripts = set()
        for component in element.components:
            key = repr(component.subscripts)
            if key in seen_subscripts:
                raise ModelFileError(
                    f"{path.name}: {element.name!r}{_at(text, element.name)} is defined twice; "
                    "delete or rename one of the definitions"
                )
            seen_subscripts.add(key)
    graph: dict[str, set[str]] = {}
    for element in section.elements:
        edges = graph.setdefault(element.name, set())
        for component in element.components:
            for node in _walk(component.ast):
                if isinstance(node, ae.CallStructure) and isinstance(node.function, ae.ReferenceStructure):
                    function = node.function.reference
                    if function not in known and function not in functionspace and function not in macros:
                        raise ModelFileError(
                            f"{path.name}: {element.name!r}{_at(text, element.name)} calls unknown "
                            f"function {function.upper().replace('_', ' ')}; use a Vensim function "
                            "PySD supports or define a lookup of that name"
                        )
                    called = by_clean.get(function)
                    if called is not None and not _callable(called):
                        raise ModelFileError(
                            f"{path.name}: {element.name!r}{_at(text, element.name)} calls "
                            f"{called.name!r} like a function, but it is not a lookup; "
                            "put an operator between it and the parentheses"
                        )
                if isinstance(node, ae.ReferenceStructure):
                    reference = node.reference
                    if reference in known:
                        if reference in name_of_clean:
                            edges.add(name_of_clean[reference])
                    elif not any(
                        isinstance(parent, ae.CallStructure) and parent.function is node
                        for parent in _walk(component.ast)
                    ):
                        raise ModelFileError(
                            f"{path.name}: {element.name!r}{_at(text, element.name)} uses "
                            f"{reference.replace('_', ' ')!r}, which is not defined; "
                            "define it or fix the name"
                        )
    cycle = _find_cycle(graph)
    if cycle:
        raise ModelFileError(
            f"{path.name}: {' -> '.join(cycle)} are defined in a circle (an algebraic loop); "
            "break it with a stock (INTEG) or an INITIAL"
        )
    _check_lookup_points(text, path)


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
    elements = {_clean(e.name): e for e in section.elements}
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

    def note(node: Any, kind: str, order: float = 1.0) -> None:
        if not isinstance(node, ae.ReferenceStructure) or node.reference not in constants:
            return
        element = constants[node.reference]
        units = _unit_key(str(element.units or ""))
        wanted = time_unit if kind == "time" else f"1/{time_unit}"
        if units != wanted:
            return
        candidate = TimeConstant(node.reference, element.name, kind, float(element.components[0].ast), order)
        old = found.get(node.reference)
        if old is None or candidate.tau(candidate.default) < old.tau(old.default):
            found[node.reference] = candidate

    for element in section.elements:
        for component in element.components:
            for node in _walk(component.ast, enter_stateful=True):
                if isinstance(node, ae.ArithmeticStructure):
                    for operator, argument in zip(node.operators, node.arguments[1:], strict=False):
                        if operator == "/":
                            note(argument, "time")
                    if "*" in node.operators:
                        for argument in node.arguments:
                            note(argument, "rate")
                for field_name in ("smooth_time", "delay_time", "average_time"):
                    if hasattr(node, field_name) and hasattr(node, "__dataclass_fields__"):
                        order = getattr(node, "order", 1)
                        note(getattr(node, field_name), "time", float(order) if isinstance(order, int | float) and order > 0 else 1.0)
    return found


def _callable(element: Any) -> bool:
    """Whether a model element may be called with parentheses: a lookup or data."""
    from pysd.translators.structures import abstract_expressions as ae

    for component in element.components:
        if type(component).__name__ in ("AbstractLookup", "AbstractData"):
            return True
        if isinstance(component.ast, ae.LookupsStructure | ae.GetLookupsStructure | ae.GetDataStructure | ae.DataStructure):
            return True
    return False


def _find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the dependency graph as a list of names (first name repeated), or []."""
    state: dict[str, int] = {}
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return [*path[path.index(child):], child]
            elif not state.get(child) and child in graph:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return []


def _check_lookup_points(text: str, path: Path) -> None:
    """x values of every lookup written as (x,y) pairs must increase strictly."""
    equations = text.split(_SKETCH_MARK, 1)[0].replace("\\\n", " ")
    for match in _POINTS.finditer(equations):
        xs = [float(x) for x in _POINT.findall(match[1])]
        for previous, current in zip(xs, xs[1:], strict=False):
            if not current > previous:
                line = text.count("\n", 0, match.start()) + 1
                raise ModelFileError(
                    f"{path.name} line {line}: lookup x values must increase, but {current:g} "
                    f"follows {previous:g}; sort the points by x and remove repeated x values"
                )


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
    if all(_is_constant_ast(c.ast) for c in element.components):
        return "constant"
    return "auxiliary"


def _is_constant_ast(ast: Any) -> bool:
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(ast, int | float | np.ndarray) and not isinstance(ast, bool):
        return True
    if isinstance(ast, ae.ArithmeticStructure) and ast.operators == ["negative"]:
        return all(_is_constant_ast(argument) for argument in ast.arguments)
    return False


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
        )
    return variables


@dataclass
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
        key = _clean(name)
        for variable in self.variables.values():
            if key in (_clean(variable.name), variable.py_name):
                return variable.py_name
        close = [v.name for v in self.variables.values() if key[:4] in _clean(v.name)][:3]
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
    def kernel(self) -> Any:
        """The vectorised engine's compiled kernel (raises UnsupportedFeature)."""
        from sdkit.engine import compile_model
        from sdkit.errors import SdkitError

        try:
            return compile_model(self.path)
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

    def pysd_model(self) -> Any:
        """A fresh PySD model, translated once into a private folder (the model folder stays clean)."""
        import pysd

        cache = Path(tempfile.gettempdir()) / "sdkit-pysd" / self.sha256[:16]
        translated = cache / (self.path.stem + ".py")
        try:
            if not translated.exists():
                cache.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryDirectory(dir=cache) as scratch:
                    copy = Path(scratch) / self.path.name
                    shutil.copyfile(self.path, copy)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        pysd.read_vensim(str(copy), initialize=False)
                    Path(scratch, translated.name).replace(translated)
            return pysd.load(str(translated))
        except OSError as exc:
            raise ModelFileError(
                f"cannot prepare PySD's translation of {self.path.name} in {cache}: "
                f"{exc.strerror or exc}; free space in {tempfile.gettempdir()} or set TMPDIR"
            ) from None
        except Exception as exc:  # PySD's builder raises many types for models it cannot build
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise ModelFileError(
                f"PySD cannot build {self.path.name} ({type(exc).__name__}: {reason}); "
                "fix the equation it names, or rerun with --debug for the traceback"
            ) from exc


def _clean(name: str) -> str:
    return " ".join(name.replace("_", " ").lower().split()).replace(" ", "_")


def _time_settings(variables: dict[str, Variable], abstract_model: Any, path: Path) -> TimeSettings:
    from pysd.translators.structures import abstract_expressions as ae

    values: dict[str, float] = {}
    aliases: dict[str, str] = {}
    for element in abstract_model.sections[0].elements:
        key = _clean(element.name)
        if key in CONTROL_NAMES:
            ast = element.components[0].ast
            if isinstance(ast, ae.ReferenceStructure) and ast.reference in CONTROL_NAMES - {key}:
                aliases[key] = ast.reference  # e.g. SAVEPER = TIME STEP, Vensim's default
                continue
            if not _is_constant_ast(ast) or not isinstance(ast, int | float):
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


def load_model(path: str | Path) -> Model:
    """Read a Vensim ``.mdl`` file and the scenarios beside it.

    Parameters
    ----------
    path : str or Path
        The model file. Scenarios are read from ``<stem>.scenarios.toml`` beside it
        when that file exists.

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
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist; give the path to a .mdl file")
    if path.suffix.lower() != ".mdl":
        raise ModelFileError(
            f"{path} is not a Vensim .mdl file; sdkit reads Vensim models (File > Save As .mdl)"
        )
    size, limit = path.stat().st_size, _max_model_bytes()
    if size > limit:
        raise ModelFileError(
            f"{path} is {size / 1e6:.1f} MB, more than sdkit reads ({limit / 1e6:g} MB); "
            "split the model, or raise the limit with SDKIT_MAX_MODEL_MB"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}; check its permissions") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    if not text.strip():
        raise ModelFileError(f"{path} is empty; save the model from Vensim as a .mdl file")
    check_model_text(text, path)
    _check_equation_lengths(text, path)
    abstract_model = _translate(path, text)
    check_structure(abstract_model, text, path)
    variables = _variables_of(abstract_model)
    model = Model(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        variables=variables,
        time=_time_settings(variables, abstract_model, path),
        dims=_dims_of(abstract_model),
        time_constants=find_time_constants(abstract_model),
    )
    scenarios_file = scenarios_path_for(path)
    if scenarios_file.exists():
        model.scenarios = load_scenarios(scenarios_file, model)
    return model
