"""Control variables that change with Time: TIME STEP, SAVEPER, FINAL TIME or INITIAL TIME as functions of Time.

Vensim and PySD read such control variables every step (SDXorg ``control_vars``:
``TIME STEP = IF THEN ELSE(Time < 4, 1, 0.5)``). The engine supports those that
are functions of Time and constants (through other control variables and
auxiliaries too); one that reads a stock or a lookup is refused.

At compile time each varying control variable becomes an auxiliary node computed
every step from its equation, and every reference to it reads that node. With a
varying TIME STEP each stock's flow is multiplied by that node and the kernel
steps with ``DT = 1``: ``v + (flow * dt) * 1`` is PySD's ``v + flow * dt`` to the bit.

Before a run the clock is PySD's (``Time.in_bounds``, ``Time.in_return``): the run
starts at INITIAL TIME (its equation read at Time 0), steps ``t += TIME STEP(t)``
while ``t + TIME STEP(t) * 1e-5 < FINAL TIME(t)``, and saves a time that lies on
the grid of SAVEPER(t) from the initial time. Overrides of the time settings set
the clock only (a varying TIME STEP cannot be overridden: the flows read it).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

import numpy as np

from sdkit.engine import ir as IR
from sdkit.engine.ir import Expr, ModelIR, Node, Ref
from sdkit.engine.static import CONTROL_ORDER, control_values, variables_read
from sdkit.errors import ParameterError, UnsupportedFeature
from sdkit.names import vensim_name
from sdkit.timing import MAX_STEPS, RPREC

#: control variable -> its tag in :class:`~sdkit.engine.ir.Control`
TAGS = {"initial_time": "t0", "final_time": "tf", "time_step": "dt", "saveper": "sp"}


@dataclass(frozen=True)
class Grid:
    """The times of a run whose control variables change with Time.

    Attributes
    ----------
    times : list of float
        Every step's time.
    check : numpy.ndarray
        Per step: on the SAVEPER grid (saved, checked for NaN).
    decimals : numpy.ndarray
        Per step: decimals its time is rounded to in the output (PySD's ``Time.round``).
    min_step : float
        The smallest TIME STEP of the run (the tolerance of requested save times).
    """

    times: list[float]
    check: np.ndarray
    decimals: np.ndarray
    min_step: float


def varying(exprs: Mapping[str, Expr], ir: ModelIR) -> list[str]:
    """The control variables whose expressions read Time (directly, through another one or through auxiliaries)."""
    found: list[str] = []
    changed = True
    while changed:
        changed = False
        tags = {TAGS[name] for name in found}
        for name in CONTROL_ORDER:
            if name not in found and name in exprs and reads_time(exprs[name], ir, tags):
                found.append(name)
                changed = True
    return [name for name in CONTROL_ORDER if name in found]


def reads_time(e: Expr, ir: ModelIR, tags: Set[str] = frozenset(), seen: set[int] | None = None) -> bool:
    """True when ``e`` may change during the run, through any chain of nodes it reads.

    It does when it reads Time, a control variable tagged in ``tags`` (one already found to
    change), a stock or a node with an initial value (an INITIAL or ACTIVE INITIAL, which a
    compile-time evaluation cannot read either); not when it reads only numbers and constants.
    """
    seen = set() if seen is None else seen
    if isinstance(e, IR.Time):
        return True
    if isinstance(e, IR.Control):
        return e.name in tags
    if isinstance(e, Ref):
        if e.node in seen:
            return False
        seen.add(e.node)
        node = ir.nodes[e.node]
        return node.kind != "param" and (node.kind == "stock" or any(
            x is not None and reads_time(x, ir, tags, seen) for x in (node.expr, node.init_expr)))
    return any(reads_time(c, ir, tags, seen) for c in IR.children(e))


def params_read(e: Expr | None, ir: ModelIR, out: set[int], seen: set[int] | None = None) -> set[int]:
    """Add to ``out`` the param nodes ``e`` reads, through auxiliaries too, on every branch."""
    seen = set() if seen is None else seen
    for idx in IR.refs(e) - seen:
        seen.add(idx)
        node = ir.nodes[idx]
        if node.kind == "param":
            out.add(idx)
        else:
            params_read(node.expr, ir, out, seen)
            params_read(node.init_expr, ir, out, seen)
    return out


def add_nodes(ir: ModelIR, exprs: Mapping[str, Expr], names: list[str], py_of: Mapping[str, str]) -> None:
    """An aux node per varying control variable that the model defines (its output and what references read)."""
    for name in names:
        py = py_of.get(name)
        if py is None:  # SAVEPER left out: it follows TIME STEP, nothing refers to it
            continue
        idx = ir.add(Node("aux", py, expr=exprs[name]))
        ir.var_nodes[py] = np.array(idx, dtype=np.int64)
        ir.var_dims[py] = ()
        ir.varying_controls[name] = idx


def finish(ir: ModelIR, names: list[str]) -> None:
    """After translation: references read the control nodes; with a varying TIME STEP the flows are scaled by it."""
    if not names:
        return
    if "time_step" in names:
        what = "RANDOM functions" if ir.random_key is not None else "DELAY FIXED" if ir.fixed_time_step else None
        if what is not None:
            raise UnsupportedFeature(
                f"{what} in a model whose 'TIME STEP' changes with Time is not supported by the engine "
                "(PySD runs it); use engine='pysd'")
    tags = {TAGS[name]: Ref(ir.varying_controls[name]) for name in names if name in ir.varying_controls}
    for node in ir.nodes:
        node.expr = _substitute(node.expr, tags)
        node.init_expr = _substitute(node.init_expr, tags)
        node.flow = _substitute(node.flow, tags)
        if "time_step" in names and node.kind == "stock" and not node.direct:
            node.flow = IR.Binary("*", node.flow, tags["dt"])


def _substitute(e: Expr | None, tags: Mapping[str, Expr]) -> Expr | None:
    """``e`` with each Control whose tag is in ``tags`` replaced by ``tags[tag]``."""
    match e:
        case None | IR.Const() | IR.Ref() | IR.Time():
            return e
        case IR.Control(name):
            return tags.get(name, e)
        case IR.Unary(op, arg):
            return IR.Unary(op, _substitute(arg, tags))
        case IR.Binary(op, left, right):
            return IR.Binary(op, _substitute(left, tags), _substitute(right, tags))
        case IR.Call(name, args):
            return IR.Call(name, tuple(_substitute(a, tags) for a in args))
        case IR.If(cond, then, other):
            return IR.If(_substitute(cond, tags), _substitute(then, tags), _substitute(other, tags))
        case IR.LookupCall(table, x):
            return IR.LookupCall(table, _substitute(x, tags))
    raise TypeError(f"unknown IR node {e!r}")


def grid(ir: ModelIR, overrides: Mapping[str, float], start: Mapping[str, float]) -> Grid:
    """PySD's time loop for control variables read every step; ``start`` holds their values at the initial time."""
    fixed = {k: float(v) for k, v in overrides.items()}  # INITIAL TIME too is read at every t, as in PySD
    t0 = float(start["initial_time"])

    def at(t: float) -> dict[str, float]:
        values = control_values(ir.control_ir, ir, fixed, set(), time=t)
        for name in ("time_step", "saveper"):
            if not (values[name] > 0 and np.isfinite(values[name])):
                raise ParameterError(f"{vensim_name(name)} is {values[name]:g} at time {t:g}; "
                                     "it must be positive: change its equation")
        return values

    times: list[float] = []
    check: list[bool] = []
    steps: list[float] = []
    t, now = t0, at(t0)
    while True:
        dt = now["time_step"]
        times.append(t)
        steps.append(dt)
        delay, sp = t - t0, now["saveper"]
        check.append(delay % sp < dt * RPREC or -delay % sp < dt * RPREC)
        if not t + dt * RPREC < now["final_time"]:
            break
        if len(times) > MAX_STEPS:
            raise ParameterError(f"the run takes more than {MAX_STEPS:.0e} steps; use a larger TIME STEP")
        t = t + dt
        now = at(t)
    dts = np.asarray(steps)
    return Grid(times, np.asarray(check), -np.log10(dts * RPREC).astype(int), float(dts.min()))


def varying_times(ir: ModelIR, overrides: Mapping[str, float],
                  start: Mapping[str, float]) -> tuple[float, float, float, float, Grid]:
    """The kernel's (T0, TF, DT, SP) and the :class:`Grid` of a model with varying control variables."""
    if "time_step" in ir.varying_controls and "time_step" in overrides:
        raise ParameterError("time_step cannot be set: the model's TIME STEP changes with Time, and its flows "
                             "read it; edit its equation in the model file")
    g = grid(ir, overrides, start)
    dt = 1.0 if "time_step" in ir.varying_controls else float(start["time_step"])
    return g.times[0], g.times[-1], dt, float(start["saveper"]), g


class ModelClock:
    """The one time grid of a model whose control variables change with Time, for given fixed settings.

    The model layer's :class:`sdkit.timing.TimeSettings` of such a model holds one, so
    that ``sdkit run``, scenarios and sweeps save the times the kernel steps through, on
    PySD as on the engine. ``fixed`` holds the control variables that do not change (the
    file's values, or a scenario's); the others are read from their equations every step.
    """

    def __init__(self, ir: ModelIR) -> None:
        self.ir = ir
        #: the control variables (Python-safe names) whose equations read Time
        self.varying: tuple[str, ...] = tuple(varying(ir.control_ir, ir))
        #: constant (Python-safe name) -> the control variables that change with Time and read it
        self.reads: dict[str, tuple[str, ...]] = {}
        for name in self.varying:
            for py in variables_read(ir, params_read(ir.control_ir[name], ir, set())):
                self.reads[py] = (*self.reads.get(py, ()), name)
        self._grids: dict[tuple, tuple[dict[str, float], Grid]] = {}

    def run(self, fixed: Mapping[str, float]) -> tuple[dict[str, float], Grid]:
        """The control variables at the initial time and the run's :class:`Grid` (ParameterError when none)."""
        key = tuple(sorted((k, float(v)) for k, v in fixed.items()))
        if key not in self._grids:
            start = control_values(self.ir.control_ir, self.ir, dict(key), set())
            self._grids[key] = (start, grid(self.ir, dict(key), start))
        return self._grids[key]
