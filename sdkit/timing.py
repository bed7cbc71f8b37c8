"""Time in a model: its settings (start, end, step, saving period) and its time constants.

The settings come from the file's ``.Control`` section; the time constants (divisors,
rates, SMOOTH and DELAY times) tell how small ``TIME STEP`` must be for Euler
integration to be accurate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sdkit.errors import ModelFileError, ParameterError
from sdkit.names import vensim_name
from sdkit.parsed import expressions_module
from sdkit.structure import clean_name, walk
from sdkit.variables import CONTROL_NAMES

#: Limits that keep a mistyped time setting from running for hours or filling memory.
MAX_STEPS = 10_000_000
MAX_SAVED = 1_000_000
#: PySD's relative precision for the final time and the saving times.
RPREC = 1e-5


#: The time settings, as :class:`TimeSettings` and scenarios' ``[time]`` tables name them.
TIME_KEYS = ("initial_time", "final_time", "time_step", "saveper")


@dataclass(frozen=True)
class TimeSettings:
    """Simulation time settings in the model's time units (years).

    For a model whose control variables change with Time (``TIME STEP = IF THEN ELSE(Time
    < 4, 1, 0.5)``, as Vensim allows) ``clock`` is the engine's clock of the model
    (:class:`sdkit.engine.clock.ModelClock`), which gives the run's one time grid; then
    ``initial_time`` and ``final_time`` are where the run starts and ends, and ``time_step``
    and ``saveper`` are their values at the start. Without one (None) the four are fixed.
    """

    initial_time: float
    final_time: float
    time_step: float
    saveper: float
    clock: Any = field(default=None, repr=False)  # compared by identity: one per model

    @property
    def varying(self) -> tuple[str, ...]:
        """The settings whose equations read Time (read every step), e.g. ``("time_step", "saveper")``."""
        return self.clock.varying if self.clock is not None else ()

    @property
    def largest_step(self) -> float:
        """The longest TIME STEP of the run (``time_step`` unless it changes with Time)."""
        if "time_step" not in self.varying:
            return self.time_step
        _, grid = self.clock.run(self.fixed())
        return float(np.diff(grid.times).max()) if len(grid.times) > 1 else self.time_step

    def read_by(self, py_name: str) -> tuple[str, ...]:
        """The settings that change with Time and read constant ``py_name``, whose value then shapes the grid."""
        return self.clock.reads.get(py_name, ()) if self.clock is not None else ()

    def as_dict(self) -> dict[str, float]:
        """The four settings by name."""
        return {key: getattr(self, key) for key in TIME_KEYS}

    def fixed(self) -> dict[str, float]:
        """The settings a run is given: all four, or those that do not change with Time."""
        return {key: value for key, value in self.as_dict().items() if key not in self.varying}

    def replace(self, overrides: dict[str, float]) -> TimeSettings:
        """Return a copy with some settings replaced; unknown keys are errors, as is a setting that changes with Time."""
        unknown = set(overrides) - set(TIME_KEYS)
        if unknown:
            raise ParameterError(
                f"unknown time setting {sorted(unknown)[0]!r}; "
                f"use one of {', '.join(TIME_KEYS)}"
            )
        try:
            given = {k: float(v) for k, v in overrides.items()}
        except OverflowError:
            raise ParameterError("a time setting is too large a number; give a finite number") from None
        if self.clock is not None:
            return settings_on_clock(self.clock, {**self.fixed(), **given})
        settings = TimeSettings(**{**self.as_dict(), **given})
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


def settings_on_clock(clock: Any, fixed: dict[str, float]) -> TimeSettings:
    """The settings of a model whose control variables change with Time, ``fixed`` holding those that do not.

    Raises ParameterError when ``fixed`` sets one that changes, or the run has no valid grid
    (a TIME STEP or SAVEPER that is not positive at some time, a run that does not advance).
    """
    for key in fixed:
        if key in clock.varying:
            name = vensim_name(key)
            raise ParameterError(
                f"{key} cannot be set: the model's {name} changes with Time (sdkit reads its equation every "
                f"step); edit {name} in the model file instead"
            )
    start, grid = clock.run(fixed)
    if len(grid.times) == 1:
        raise ParameterError(f"final_time ({start['final_time']:g} at the start) must be after initial_time "
                             f"({grid.times[0]:g}); change FINAL TIME or INITIAL TIME")
    ends = {"initial_time": grid.times[0], "final_time": grid.times[-1]}
    values = {**start, **{key: ends[key] for key in ends if key in clock.varying}, **fixed}
    settings = TimeSettings(**{key: float(values[key]) for key in TIME_KEYS}, clock=clock)
    settings.validate()
    if grid.check.sum() > MAX_SAVED:
        raise ParameterError(f"the run would save {grid.check.sum():.3g} times, more than {MAX_SAVED:.0e}; "
                             "use a larger SAVEPER")
    return settings


def varying_text(time: TimeSettings) -> str:
    """``TIME STEP, SAVEPER change with Time`` for the settings that do, or ""."""
    names = [vensim_name(key) for key in time.varying]
    if not names:
        return ""
    return f"{', '.join(names)} {'changes' if len(names) == 1 else 'change'} with Time"


def time_grid(t0: float, tf: float, dt: float) -> list[float]:
    """Times visited by PySD's Euler loop: ``t += dt`` while ``t + dt*1e-5 < tf``."""
    times = [t0]
    t = t0
    while t + dt * RPREC < tf:
        t = t + dt
        times.append(t)
    return times


def saveper_mask(times: Sequence[float], t0: float, dt: float, saveper: float) -> np.ndarray:
    """PySD's ``Time.in_return`` for a SAVEPER grid."""
    prec = dt * RPREC
    out = np.zeros(len(times), dtype=bool)
    for k, t in enumerate(times):
        delay = t - t0
        out[k] = delay % saveper < prec or -delay % saveper < prec
    return out


def time_settings_of(abstract_model: Any, path: Path, text: str) -> tuple[TimeSettings, Any]:
    """The time settings the file's control variables give, and the engine's translation when it was needed.

    A control variable is a number, another one (``SAVEPER = TIME STEP``, Vensim's default) or an
    expression of numbers and constants (``FINAL TIME = horizon``, ``SAVEPER = 2 * TIME STEP``),
    which the engine's translation evaluates (returned, else None). One that changes with Time
    (``TIME STEP = IF THEN ELSE(Time < 4, 1, 0.5)``) is read every step by the engine's clock,
    which the settings then hold (:class:`TimeSettings`).
    """
    ae = expressions_module()

    values: dict[str, float] = {}
    aliases: dict[str, str] = {}
    computed: list[str] = []
    translation = None
    for element in abstract_model.sections[0].elements:
        key = clean_name(element.name)
        if key in CONTROL_NAMES:
            ast = element.components[0].ast
            if isinstance(ast, ae.ReferenceStructure) and ast.reference in CONTROL_NAMES - {key}:
                aliases[key] = ast.reference
            elif isinstance(ast, int | float) and not isinstance(ast, bool):
                values[key] = float(ast)
            else:
                computed.append(element.name)
    missing = CONTROL_NAMES - set(values) - set(aliases) - {clean_name(name) for name in computed}
    if missing:
        raise ModelFileError(
            f"{path.name} has no {sorted(missing)[0].upper().replace('_', ' ')}; "
            "add it to the model's .Control section"
        )
    if computed:
        translation = _translation(abstract_model, path, text, computed[0])
        values = {key: float(translation.control[key]) for key in CONTROL_NAMES}
    for key, target in aliases.items():
        values.setdefault(key, values[target])
    try:
        if translation is not None and translation.varying_controls:
            from sdkit.engine.clock import ModelClock

            return settings_on_clock(ModelClock(translation), {}), translation
        settings = TimeSettings(**{key: values[key] for key in sorted(CONTROL_NAMES)})
        settings.validate()
    except ParameterError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from None
    return settings, translation


def _translation(abstract_model: Any, path: Path, text: str, first: str) -> Any:
    """The engine's translation of the model, whose control variables it evaluates (``first``, one written as
    an expression, is named in the errors)."""
    from sdkit.engine.translate import translate
    from sdkit.errors import UnsupportedFeature

    try:
        ir = translate(path, text, abstract_model)
    except UnsupportedFeature as exc:
        reason = str(exc).removesuffix("; use engine='pysd'")
        raise ModelFileError(
            f"{path.name}: {first} is not a number and could not be evaluated ({reason}); "
            "write it as a number or an expression of numbers, constants and Time in the .Control section"
        ) from None
    return ir


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
    finder = _TimeConstantFinder(constants, time_unit)
    for element in section.elements:
        for component in element.components:
            for node in walk(component.ast, enter_stateful=True):
                finder.visit(node, element.name)
    return finder.found


class _TimeConstantFinder:
    """Collects the fastest time constant of each constant (or literal) an expression divides by."""

    def __init__(self, constants: dict[str, Any], time_unit: str) -> None:
        self.constants = constants
        self.time_unit = time_unit
        self.found: dict[str, TimeConstant] = {}

    def visit(self, node: Any, owner: str) -> None:
        """Note the time constants one node of ``owner``'s equation uses."""
        ae = expressions_module()

        if isinstance(node, ae.ArithmeticStructure):
            for argument in _divisors(node):
                self.note(argument, "time")
            if "*" in node.operators:
                for argument in node.arguments:
                    self.note(argument, "rate")
        if isinstance(node, ae.IntegStructure):
            for inner in walk(node.flow):
                if isinstance(inner, ae.ArithmeticStructure):
                    for argument in _divisors(inner):
                        self.note(argument, "time", where=f"the flow of {owner}")
        for field_name in ("smooth_time", "delay_time", "average_time"):
            if hasattr(node, field_name) and hasattr(node, "__dataclass_fields__"):
                order = getattr(node, "order", 1)
                order = float(order) if _is_number(order) and order > 0 else 1.0
                self.note(getattr(node, field_name), "time", order, where=f"a delay or smooth of {owner}", any_units=True)

    def note(self, node: Any, kind: str, order: float = 1.0, where: str = "", any_units: bool = False) -> None:
        ae = expressions_module()

        if _is_number(node) and where:  # a literal time: fixed, it cannot be overridden
            self.keep(TimeConstant(f"{where}: {float(node):g}", f"the number {float(node):g} in {where}", kind, float(node), order))
            return
        if not isinstance(node, ae.ReferenceStructure) or node.reference not in self.constants:
            return
        element = self.constants[node.reference]
        units = _unit_key(str(element.units or ""))
        wanted = self.time_unit if kind == "time" else f"1/{self.time_unit}"
        if units != wanted and not any_units:  # a DELAY/SMOOTH time is a time whatever its units say
            return
        self.keep(TimeConstant(node.reference, element.name, kind, float(element.components[0].ast), order))

    def keep(self, candidate: TimeConstant) -> None:
        old = self.found.get(candidate.py_name)
        if old is None or candidate.tau(candidate.default) < old.tau(old.default):
            self.found[candidate.py_name] = candidate


def _divisors(node: Any) -> list[Any]:
    """The arguments an arithmetic node divides by."""
    return [argument for operator, argument in zip(node.operators, node.arguments[1:], strict=False)
            if operator == "/"]


def _is_number(node: Any) -> bool:
    return isinstance(node, int | float) and not isinstance(node, bool)


def time_step_warning(time_constants: dict[str, TimeConstant], time_step: float,
                  values: dict[str, Any] | None = None) -> str:
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
    for constant in time_constants.values():
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


def find_time_lookups(abstract_model: Any, py_names: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Variables that read a lookup directly at Time: Python-safe name -> ``(x_min, x_max)``.

    Outside that range of x the lookup holds its end value, so a run that starts or
    ends outside it is refused. ``py_names`` maps each model name to its Python-safe
    name; a variable reading several such lookups gets the range they share.
    """
    ae = expressions_module()

    section = abstract_model.sections[0]
    tables: dict[str, list[Any]] = {}
    for element in section.elements:
        for component in element.components:
            if isinstance(component.ast, ae.LookupsStructure):
                tables.setdefault(clean_name(element.name), []).append(component.ast)
    found: dict[str, tuple[float, float]] = {}
    for element in section.elements:
        for component in element.components:
            for table in _tables_read_at_time(component.ast, tables):
                low, high = float(table.x[0]), float(table.x[-1])
                old = found.get(py_names[element.name])
                if old is not None:
                    low, high = max(low, old[0]), min(high, old[1])
                found[py_names[element.name]] = (low, high)
    return found


def _tables_read_at_time(ast: Any, tables: dict[str, list[Any]]) -> Iterator[Any]:
    """The lookup tables an expression evaluates at exactly ``Time`` (named or inline)."""
    ae = expressions_module()

    def at_time(node: Any) -> bool:
        return isinstance(node, ae.ReferenceStructure) and node.reference == "time"

    for node in walk(ast, enter_stateful=True):
        if isinstance(node, ae.InlineLookupsStructure) and at_time(node.argument):
            yield node.lookups
        elif (isinstance(node, ae.CallStructure) and isinstance(node.function, ae.ReferenceStructure)
              and len(node.arguments) == 1 and at_time(node.arguments[0])):
            yield from tables.get(node.function.reference, [])
