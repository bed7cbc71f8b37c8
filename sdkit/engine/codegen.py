"""Generate Python source for a simulation kernel from the scalar IR.

The source is built only from the IR: identifiers are generated here
(``v0``, ``v1``, ..., ``_c0``, ``_lx0``), numbers are written with
``repr(float)`` inside ``_f64('...')``; no name, comment or unit from the
model file ever reaches the generated code.

Two flavours share one expression generator (:class:`ExpressionCode`) and the
initialisation, step and flow code:

``numpy``
    every node is a numpy array over the sample axis (or a numpy scalar);
    one Python loop over time steps.
``numba``
    blocks of samples (16, 32, 64 or 128: :func:`~sdkit.engine.nbmodule.lane_count`); per
    block a time loop whose every step runs loops over the lanes, which LLVM vectorises (see
    :func:`generate_numba`); compiled with ``numba.njit(cache=True)``, in
    blocks of equations cached one by one (:mod:`sdkit.engine.nbblocks`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sdkit.engine import ir as IR
from sdkit.engine.functions import ALLOCATION, DISTRIBUTIONS
from sdkit.engine.ir import LEAVES, Expr, ModelIR, Visitor, children, refs
from sdkit.engine.nbmodule import (
    NumbaModules,
    lane_count,
    module_name,
)
from sdkit.engine.schedule import Schedule

if TYPE_CHECKING:
    from sdkit.engine.nblanes import Gather

_NP_FN = {
    "abs": "_np.abs",
    "exp": "_U.exp",
    "sqrt": "_np.sqrt",
    "ln": "_U.ln",
    "log": "_F.log",
    "sin": "_U.sin",
    "cos": "_U.cos",
    "tan": "_U.tan",
    "arcsin": "_U.arcsin",
    "arccos": "_U.arccos",
    "arctan": "_U.arctan",
    "sinh": "_U.sinh",
    "cosh": "_U.cosh",
    "tanh": "_U.tanh",
    "min": "_np.minimum",
    "max": "_np.maximum",
    "power": "_U.power",
    "integer": "_np.trunc",
    "modulo": "_F.modulo",
    "quantum": "_F.quantum",
    "xidz": "_F.xidz",
    "zidz": "_F.zidz",
    "step": "_F.step",
    "ramp": "_F.ramp",
    "pulse": "_F.pulse",
    "pulse_train": "_F.pulse_train",
}
_NP_FN.update({name: f"_F.{name}" for name in (*DISTRIBUTIONS, *ALLOCATION)})  # functions.py / nbfunctions.py
_NB_FN = dict(_NP_FN)
_NB_FN.update(
    {
        "exp": "_V.exp",
        "ln": "_V.ln",
        "power": "_V.power",
        "sin": "_V.sin",
        "cos": "_V.cos",
        "tan": "_V.tan",
        "arcsin": "_np.arcsin",
        "arccos": "_np.arccos",
        "arctan": "_V.arctan",
        "sinh": "_np.sinh",
        "cosh": "_np.cosh",
        "tanh": "_np.tanh",
        "integer": "_np.trunc",
    }
)
#: numba code run once per sample (initialisation) calls the maths instead of inlining it
_NB_FN_CALLED = dict(_NB_FN)
_NB_FN_CALLED.update(
    {name: f"_V.{name}_called" for name in ("exp", "ln", "power", "sin", "cos", "tan", "arctan")}
)
_CTRL = {"t0": "T0", "tf": "TF", "dt": "DT", "sp": "SP"}
#: functions of time that the numba lane loop computes once per step when no argument reads a node
_OF_TIME = {"step", "ramp", "pulse", "pulse_train"}
_CMP = {"==", "!=", "<", ">", "<=", ">="}


class ExpressionCode(Visitor):
    """Python source of IR expressions, for the numpy or the numba kernel.

    ``e(expr)`` returns an expression's code; the numba flavour binds subexpressions
    to temporaries, which ``flush()`` returns as lines to write before that code.
    Numbers become names; ``consts`` maps each number's ``repr`` to its name. A subclass may read
    nodes and Time from other names by overriding ``visit_Ref`` and ``visit_Time``
    (:mod:`sdkit.loops.linkcode` does).
    """

    def __init__(self, ir: ModelIR, flavor: str) -> None:
        self.ir = ir
        self.flavor = flavor
        self.consts: dict[float | str, str] = {}
        self.fn = _NP_FN if flavor == "numpy" else _NB_FN
        self.pre: list[str] = []
        self.ntmp = 0
        self.depth = 0
        #: while generating the numba lane loop: lines computing lookups and functions of Time, once per step
        self.hoist: list[str] | None = None
        #: while generating the one-function numba kernel's lane loop: its lookups, in a loop of their own
        self.gather: Gather | None = None  # sdkit.engine.nblanes.Gather
        #: source of a node's value (default ``v{node}``); the looped numba kernel reads ``X``
        self.ref: Callable[[int], str] | None = None

    def tmp(self, code: str) -> str:
        """Bind ``code`` to a fresh temporary (numba flavour) and return its name."""
        if code.isidentifier():
            return code
        name = f"_t{self.ntmp}"
        self.ntmp += 1
        self.pre.append(f"{name} = {code}")
        return name

    def flush(self) -> list[str]:
        """Return and clear the temporaries needed by the last expressions."""
        out, self.pre = self.pre, []
        return out

    def const(self, x: float) -> str:
        key = repr(float(x)) if not math.isnan(x) else "nan"
        name = self.consts.get(key)
        if name is None:
            name = f"_c{len(self.consts)}"
            self.consts[key] = name
        return name

    def e(self, ex: Expr) -> str:
        """Source of expression ``ex``; deep expressions are split into temporaries."""
        self.depth += 1
        try:
            code = self.visit(ex)
        finally:
            self.depth -= 1
        # CPython refuses more than ~200 nested parentheses: hoist every 40 levels
        if self.depth % 40 == 39 and not isinstance(ex, LEAVES):
            return self.tmp(code)
        return code

    def visit_Const(self, ex: IR.Const) -> str:
        return self.const(ex.value)

    def visit_Ref(self, ex: IR.Ref) -> str:
        return self.ref(ex.node) if self.ref else f"v{int(ex.node)}"

    def visit_Time(self, ex: IR.Time) -> str:
        return "t"

    def visit_Control(self, ex: IR.Control) -> str:
        return _CTRL[ex.name]

    def visit_Unary(self, ex: IR.Unary) -> str:
        a = self.e(ex.arg)
        if ex.op == "-":
            return f"(-{a})"
        return f"_np.logical_not({a})" if self.flavor == "numpy" else f"_V.select({a} == 0, 1.0, 0.0)"

    def visit_Binary(self, ex: IR.Binary) -> str:
        op, a, b = ex.op, self.e(ex.left), self.e(ex.right)
        np_ = self.flavor == "numpy"
        if op in ("+", "-", "*", "/"):
            return f"({a} {op} {b})"
        if op == "^":
            return f"_U.power({a}, {b})" if np_ else f"{self.fn['power']}({a}, {b})"
        if op in _CMP:
            return f"({a} {op} {b})" if np_ else f"_V.select({a} {op} {b}, 1.0, 0.0)"
        if op in ("and", "or"):
            if np_:
                return f"_np.logical_{op}({a}, {b})"
            return f"_V.select(({a} != 0) {'&' if op == 'and' else '|'} ({b} != 0), 1.0, 0.0)"
        raise ValueError(op)

    def visit_If(self, ex: IR.If) -> str:
        c, a, b = self.e(ex.cond), self.e(ex.then), self.e(ex.other)
        return f"_np.where({c}, {a}, {b})" if self.flavor == "numpy" else f"_V.select({c} != 0, {a}, {b})"

    def visit_Call(self, ex: IR.Call) -> str:
        if self.flavor != "numpy" and ex.name in ("min", "max"):
            # NaN-propagating select like numpy.minimum/maximum, inlined
            a = self.tmp(self.e(ex.args[0]))
            b = self.tmp(self.e(ex.args[1]))
            cmp = "<=" if ex.name == "min" else ">="
            return f"_V.select(({a} {cmp} {b}) | ({a} != {a}), {a}, {b})"
        if self.hoist is not None and ex.name in _OF_TIME and _uniform(ex):
            return self._hoisted(lambda: self._call(ex))
        return self._call(ex)

    def _call(self, ex: IR.Call) -> str:
        args = ", ".join(self.e(a) for a in ex.args)
        return f"{self.fn[ex.name]}({args})"

    def visit_LookupCall(self, ex: IR.LookupCall) -> str:
        table = self.table(int(ex.table))
        if self.hoist is not None and _uniform(ex.x):
            return self._hoisted(lambda: f"_F.lookup({self.e(ex.x)}, {table})")
        if self.gather is not None and refs(ex.x) <= self.gather.held:
            return self._gathered(ex.x, table, int(ex.table))
        return f"_F.lookup({self.e(ex.x)}, {table})"

    def table(self, tid: int) -> str:
        """The arguments naming lookup table ``tid`` and its mode in a call of ``_F.lookup``."""
        return f"_lx{tid}, _ly{tid}, {self.ir.lookups[tid].code}"

    def _hoisted(self, code_of: Callable[[], str]) -> str:
        """Name of a value the same for every sample (``code_of()``: a lookup or function of time), computed
        before the lane loop."""
        pending, self.pre = self.pre, []
        code = code_of()
        name = f"_h{len(self.hoist)}"
        self.hoist += self.pre + [f"{name} = {code}"]
        self.pre = pending
        return name

    def _gathered(self, arg: Expr, table: str, tid: int) -> str:
        """A lookup of an argument that reads held values only (no value of this step), computed before the
        lane loop into rows of ``X``, which the lane loop reads (see :class:`~sdkit.engine.nblanes.Gather`).

        In modes 0 to 2 the rows keep, per lane, the interval ``j`` of the step before and its two points:
        a vectorised loop checks the argument against them, a search (``_F.interval``) runs only
        where it left them, and the lane loop interpolates (``_F.interpolated``, vectorised) with the
        table's edges computed once per step. Other modes compute the whole lookup into one row."""
        gather = self.gather
        pending, ref, self.pre = self.pre, self.ref, []
        self.ref = lambda node: f"X[{node * gather.lanes} + i]"
        code = self.e(arg)
        row = lambda k: f"X[{(gather.row + k) * gather.lanes} + i]"  # noqa: E731
        mode = self.ir.lookups[tid].code
        if mode > 2:
            gather.lines += self.pre + [f"{row(0)} = _F.lookup({code}, {table})"]
            value, gather.row = row(0), gather.row + 1
        else:
            xs, ys = f"_lx{tid}", f"_ly{tid}"
            last = f"({xs}.size - 1)"
            # rows: 0 the argument, 1 whether it left the interval, 2 j, 3 to 6 the points (x NaN: none yet)
            gather.checks += self.pre + [
                f"_x = {code}",
                f"{row(0)} = _x",
                f"{row(1)} = _V.select(({row(3)} <= _x) & (({row(5)} > _x) | ({row(2)} == {last})), 0.0, 1.0)",
            ]
            gather.fixes += [
                f"if {row(1)} != 0.0:",
                f"    _j = _F.interval({row(0)}, {xs})",
                f"    _k = min(_j + 1, {last})",
                f"    {row(2)} = _j",
                f"    {row(3)} = {xs}[_j]",
                f"    {row(4)} = {ys}[_j]",
                f"    {row(5)} = {xs}[_k]",
                f"    {row(6)} = {ys}[_k]",
            ]
            gather.nan_rows.append(gather.row + 3)
            edges = f"_e{gather.row}"
            self.hoist.append(f"{edges} = _F.table_edges({xs}, {ys}, {mode})")
            value = row(4) if mode == 1 else f"_F.interpolated({row(0)}, {row(3)}, {row(4)}, {row(5)}, {row(6)}, {edges})"
            gather.row += 7
        self.pre, self.ref = pending, ref
        return value


def _uniform(ex: Expr) -> bool:
    """True when ``ex`` reads no node: only numbers and the time variables."""
    return not isinstance(ex, IR.Ref) and all(_uniform(child) for child in children(ex))


def _tuple(ids) -> str:
    """Source of a tuple of node variables (``()`` when empty)."""
    names = [f"v{i}" for i in ids]
    return "(" + ", ".join(names) + ",)" if names else "()"


def _float_list(values) -> str:
    return "[" + ", ".join(f"_f64({repr(float(v))!r})" for v in values) + "]"


def check_order(ir: ModelIR, sched: Schedule) -> list[int]:
    """Order in which nodes are checked for NaN/inf: params, held values, then step order.

    :RAW: data is NaN between its times by definition (as in PySD) and is not checked;
    what reads it there is.
    """
    nodes = ir.nodes
    first = [i for i in sched.init if nodes[i].kind in ("param", "initial")]
    step = set(sched.step)
    static = [i for i in sched.init if nodes[i].kind == "aux" and i not in step]
    order = first + static + list(sched.step) + list(sched.stocks)
    return [i for i in order if not _raw_data(ir, nodes[i].expr)]


def static_checks(order: list[int], sched: Schedule) -> int:
    """How many nodes of :func:`check_order` come before the step's (checked once, at the first step)."""
    dynamic = {*sched.step, *sched.stocks}
    return sum(i not in dynamic for i in order)


def _raw_data(ir: ModelIR, expr: Expr | None) -> bool:
    return isinstance(expr, IR.LookupCall) and ir.lookups[expr.table].mode == "raw"


def generate(ir: ModelIR, sched: Schedule, flavor: str) -> str:
    """Return the source of a module defining ``run(...)`` for ``flavor``.

    The generated ``run`` has the signature
    ``run(P, T, SAVE, CHK, SN, buf, T0, TF, DT, SP, BAD)`` (numpy) or
    ``run(P, T, SAVE, CHK, SN, buf, T0, TF, DT, SP, BAD, S0, S1, C, LK)`` (numba);
    see :mod:`sdkit.engine.kernel` for the meaning of each argument.
    """
    if flavor == "numpy":
        return _generate_numpy(ir, sched)
    return generate_numba(ir, sched).source


def expression_function(ir: ModelIR, expr: Expr):
    """A numpy function ``f(V, t, T0, TF, DT, SP)`` of one IR expression.

    ``V`` maps node indices to arrays (every node the expression reads); the
    numbers follow the numpy kernel's arithmetic, being the same generated code.
    Used to evaluate one equation with some inputs changed (loop dominance).
    """
    g = ExpressionCode(ir, "numpy")
    code = g.e(expr)
    body = [f"    v{i} = V[{i}]" for i in sorted(refs(expr))]
    body += [f"    {line}" for line in g.flush()] + [f"    return {code}"]
    head = ["import numpy as _np", "from sdkit.engine import functions as _F",
            "from sdkit.engine import ufuncs as _U", "_f64 = _np.float64"]
    head += [f"{name} = _f64({key!r})" for key, name in g.consts.items()]
    head += _lookup_tables(ir)
    source = "\n".join([*head, "", "def f(V, t, T0, TF, DT, SP):", *body, ""])
    namespace: dict = {}
    exec(compile(source, "<sdkit expression>", "exec"), namespace)  # noqa: S102 - source built from the IR only
    return namespace["f"]


def lookup_data(ir: ModelIR) -> tuple:
    """The numba kernel's ``LK``: x and y of every lookup table, in table order."""
    return tuple(
        np.ascontiguousarray(a, dtype=np.float64) for lk in ir.lookups for a in (lk.x, lk.y)
    )


def delay_lines(ir: ModelIR, sched: Schedule) -> list[int]:
    """The stocks whose value is their flow of more than one step before (``Node.lag``), in schedule order: the
    kernels keep each one's last ``lag`` flows in a ring, one write and one read per step."""
    return [i for i in sched.stocks if ir.nodes[i].lag > 1]


def stock_update(nd, value: str, flow: str, target: str, flavor: str = "numba") -> list[str]:
    """Lines that set ``target`` to the stock's next value from its ``value`` and ``flow``:
    the flow itself for a shift register, else ``value + flow * DT``, held at zero when the
    stock is non-negative (NaN passes, so the run's check still sees it)."""
    if nd.direct:
        return [f"{target} = {flow}"]
    upd = f"{value} + {flow} * DT"
    if nd.nonneg:
        if flavor == "numpy":
            return [f"{target} = _np.maximum({upd}, 0.0)"]
        return [f"_u = {upd}", f"{target} = _V.select((_u >= 0.0) | (_u != _u), _u, 0.0)"]
    return [f"{target} = {upd}"]


def _assign(g: ExpressionCode, target: str, expr: Expr, emit, level: int) -> None:
    """Emit ``target = expr`` after the temporaries the expression needs."""
    code = g.e(expr)
    for line in g.flush():
        emit(line, level)
    emit(f"{target} = {code}", level)


def _init_code(g: ExpressionCode, ir: ModelIR, sched: Schedule, emit, level: int) -> None:
    """Emit the initialisation of every non-param node, in schedule order."""
    nodes = ir.nodes
    for i in sched.init:
        if nodes[i].kind != "param":
            _assign(g, f"v{i}", nodes[i].initial_value, emit, level)


def _step_code(g: ExpressionCode, ir: ModelIR, sched: Schedule, emit, level: int) -> None:
    """Emit the auxiliaries of one time step, in schedule order."""
    for i in sched.step:
        _assign(g, f"v{i}", ir.nodes[i].expr, emit, level)


def _flow_code(g: ExpressionCode, ir: ModelIR, sched: Schedule, emit, level: int) -> None:
    """Emit ``d{i} = flow`` for every stock."""
    for i in sched.stocks:
        _assign(g, f"d{i}", ir.nodes[i].flow, emit, level)


def _lookup_tables(ir: ModelIR) -> list[str]:
    out = []
    for tid, lk in enumerate(ir.lookups):
        out.append(f"_lx{tid} = _np.array({_float_list(lk.x)}, dtype=_np.float64)")
        out.append(f"_ly{tid} = _np.array({_float_list(lk.y)}, dtype=_np.float64)")
    return out


def _generate_numpy(ir: ModelIR, sched: Schedule) -> str:
    g = ExpressionCode(ir, "numpy")
    nodes = ir.nodes
    params = [i for i, nd in enumerate(nodes) if nd.kind == "param"]
    body: list[str] = []

    def emit(line: str, extra: int = 0) -> None:
        body.append("    " + "    " * extra + line)

    for j, i in enumerate(params):
        emit(f"v{i} = P[{j}]")
    emit("t = T0")
    _init_code(g, ir, sched, emit, 0)
    lines = delay_lines(ir, sched)
    for i in lines:
        emit(f"_r{i} = [v{i}] * {nodes[i].lag}")
    order = check_order(ir, sched)
    n_static = static_checks(order, sched)
    emit("nsteps = T.shape[0] - 1")
    emit("k = 0")
    emit("while True:")
    emit("t = T[k]", 1)
    _step_code(g, ir, sched, emit, 1)
    emit("if k == 0:", 1)
    emit(f"_bad = _F.first_bad({_tuple(order)})", 2)
    emit("elif CHK[k] or k == nsteps:", 1)
    emit(f"_bad = _F.first_bad({_tuple(order[n_static:])}, {n_static})", 2)
    emit("else:", 1)
    emit("_bad = None", 2)
    emit("if _bad is not None:", 1)
    emit("return (k, _bad[0], _bad[1])", 2)
    emit("slot = SAVE[k]", 1)
    emit("if slot >= 0:", 1)
    emit(f"_vals = {_tuple(range(len(nodes)))}", 2)
    emit("for j in range(SN.shape[0]):", 2)
    emit("buf[j, slot] = _vals[SN[j]]", 3)
    emit("if k == nsteps:", 1)
    emit("break", 2)
    _flow_code(g, ir, sched, emit, 1)
    for i in sched.stocks:
        for line in stock_update(nodes[i], f"v{i}", f"d{i}", f"v{i}", "numpy"):
            emit(line, 1)
    for i in lines:  # as the numba kernels' ring_advance
        emit(f"_r{i}[k % {nodes[i].lag}] = v{i}", 1)
        emit(f"v{i} = _r{i}[(k + 1) % {nodes[i].lag}]", 1)
    emit("k += 1", 1)

    head = [
        "# generated by sdkit.engine.codegen from the model's AST; do not edit",
        "import numpy as _np",
        "from sdkit.engine import functions as _F",
    ]
    if "_U." in "\n".join(body):
        head.append("from sdkit.engine import ufuncs as _U")
    head.append("_f64 = _np.float64")
    for key, name in g.consts.items():
        head.append(f"{name} = _f64({key!r})")
    head += _lookup_tables(ir)
    head += ["", "def run(P, T, SAVE, CHK, SN, buf, T0, TF, DT, SP, BAD):"]
    return "\n".join(head + body + ["    return None", ""])




def generate_numba(ir: ModelIR, sched: Schedule, blocks: bool = False) -> NumbaModules:
    """The numba kernel's modules and the data arguments of its ``run``.

    Blocks of ``L`` samples, the time loop outside the lane loop. The numbers
    of the equations, the lookup tables and the time settings are arguments, not
    text of the source, so a model that differs only in numbers, lookup points or
    time settings has the same modules, and numba's cache compiles them once.

    Every node's value for lane ``i`` lives in ``X[node * L + i]``, and
    the next value of the ``j``-th stock in ``X[(n_nodes + j) * L + i]``; ``L``, the
    lane count, is chosen from the number of these rows (:func:`~sdkit.engine.nbmodule.lane_count`)
    and is part of the text.
    The last block of a chunk may have fewer samples than lanes: its spare lanes
    repeat its first sample and are neither checked nor saved, so that the lane
    loops always run ``L`` times (a constant trip count lets LLVM drop numba's
    negative-index checks and vectorise).

    One time step of a block of samples is the function ``lanes``, whose loops run
    over the block's lanes, so LLVM turns them into SIMD instructions (hence EXP,
    LN and POWER from :mod:`sdkit.engine.vmath`, plain arithmetic, and choices as
    ``vmath.select``, not branches). Lookups read at ``Time`` are evaluated once per
    step for all lanes. ``run`` initialises each block of samples, then calls
    ``lanes`` once per step; at steps that are checked or saved it calls
    ``lanes_full``, which also leaves in ``X[z_row + i]`` a sum that is NaN when
    any value is NaN or infinite; ``run`` then checks and saves.

    With ``blocks`` the equations are cut into blocks, each a module of its own whose
    text does not depend on where its nodes sit in the model (:mod:`sdkit.engine.nbblocks`),
    so an edit recompiles only the blocks it touches; else ``lanes`` is one function, values
    in locals (faster to run). A model with equations over long subscript ranges gets
    one module with each such equation as a loop over its elements (:mod:`sdkit.engine.nbloops`).
    """
    from sdkit.engine.kernel_files import compiled_with
    from sdkit.engine.nbblocks import generate_blocked
    from sdkit.engine.nblanes import generate_lanes
    from sdkit.engine.nbloops import generate_looped, loop_items

    salt = compiled_with()
    items = loop_items(ir, sched)
    if items is None and blocks:
        return generate_blocked(ir, sched, salt)
    g = ExpressionCode(ir, "numba")
    lanes = lane_count(len(ir.nodes) + len(sched.stocks) + 1, looped=items is not None)
    if items is not None:
        source = generate_looped(g, ir, sched, items, lanes)
    else:
        source = generate_lanes(g, ir, sched, lanes)
    numbers = np.array([float(key) for key in g.consts], dtype=np.float64)
    return NumbaModules([(module_name("sdkit_kernel_", source, salt), source)], (numbers, lookup_data(ir)), [{}])
