"""Generate Python source for a simulation kernel from the scalar IR.

The source is built only from the IR: identifiers are generated here
(``v0``, ``v1``, ..., ``_c0``, ``_lx0``), numbers are written with
``repr(float)`` inside ``_f64('...')``; no name, comment or unit from the
model file ever reaches the generated code.

Two flavours share one generator:

``numpy``
    every node is a numpy array over the sample axis (or a numpy scalar);
    one Python loop over time steps.
``numba``
    a ``prange`` loop over samples, each running the time loop on scalars;
    compiled with ``numba.njit(parallel=True, cache=True)``.
"""

from __future__ import annotations

import math

from sdkit.engine.ir import Expr, ModelIR
from sdkit.engine.schedule import Schedule

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
_NB_FN = dict(_NP_FN)
_NB_FN.update(
    {
        "exp": "_np.exp",
        "ln": "_np.log",
        "sin": "_np.sin",
        "cos": "_np.cos",
        "tan": "_np.tan",
        "arcsin": "_np.arcsin",
        "arccos": "_np.arccos",
        "arctan": "_np.arctan",
        "sinh": "_np.sinh",
        "cosh": "_np.cosh",
        "tanh": "_np.tanh",
        "integer": "_np.trunc",
    }
)
_CTRL = {"time": "t", "t0": "T0", "tf": "TF", "dt": "DT", "sp": "SP"}
_CMP = {"==", "!=", "<", ">", "<=", ">="}


class _Gen:
    def __init__(self, ir: ModelIR, flavor: str) -> None:
        self.ir = ir
        self.flavor = flavor
        self.consts: dict[float | str, str] = {}
        self.fn = _NP_FN if flavor == "numpy" else _NB_FN
        self.pre: list[str] = []
        self.ntmp = 0
        self.depth = 0

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
            code = self._e(ex)
        finally:
            self.depth -= 1
        # CPython refuses more than ~200 nested parentheses: hoist every 40 levels
        if self.depth % 40 == 39 and ex[0] not in ("c", "v") and ex[0] not in _CTRL:
            return self.tmp(code)
        return code

    def _e(self, ex: Expr) -> str:
        tag = ex[0]
        if tag == "c":
            return self.const(ex[1])
        if tag == "v":
            return f"v{int(ex[1])}"
        if tag in _CTRL:
            return _CTRL[tag]
        if tag == "neg":
            return f"(-{self.e(ex[1])})"
        np_ = self.flavor == "numpy"
        if tag == "not":
            a = self.e(ex[1])
            return f"_np.logical_not({a})" if np_ else f"(1.0 if {a} == 0 else 0.0)"
        if tag == "bin":
            op, a, b = ex[1], self.e(ex[2]), self.e(ex[3])
            if op in ("+", "-", "*", "/"):
                return f"({a} {op} {b})"
            if op == "^":
                return f"_U.power({a}, {b})" if np_ else f"({a} ** {b})"
            if op in _CMP:
                return f"({a} {op} {b})" if np_ else f"(1.0 if {a} {op} {b} else 0.0)"
            if op == "and":
                return (
                    f"_np.logical_and({a}, {b})"
                    if np_
                    else f"(1.0 if ({a} != 0 and {b} != 0) else 0.0)"
                )
            if op == "or":
                return (
                    f"_np.logical_or({a}, {b})"
                    if np_
                    else f"(1.0 if ({a} != 0 or {b} != 0) else 0.0)"
                )
            raise ValueError(op)
        if tag == "if":
            c, a, b = self.e(ex[1]), self.e(ex[2]), self.e(ex[3])
            return f"_np.where({c}, {a}, {b})" if np_ else f"({a} if {c} != 0 else {b})"
        if tag == "fn" and not np_ and ex[1] == "power":
            return f"({self.e(ex[2][0])} ** {self.e(ex[2][1])})"
        if tag == "fn" and not np_ and ex[1] in ("min", "max"):
            # NaN-propagating select like numpy.minimum/maximum, inlined
            a = self.tmp(self.e(ex[2][0]))
            b = self.tmp(self.e(ex[2][1]))
            cmp = "<=" if ex[1] == "min" else ">="
            return f"({a} if ({a} {cmp} {b} or {a} != {a}) else {b})"
        if tag == "fn":
            args = ", ".join(self.e(a) for a in ex[2])
            return f"{self.fn[ex[1]]}({args})"
        if tag == "lookup":
            tid = int(ex[1])
            mode = {"interpolate": 0, "hold_backward": 1, "extrapolate": 2}[
                self.ir.lookups[tid].mode
            ]
            return f"_F.lookup({self.e(ex[2])}, _lx{tid}, _ly{tid}, {mode})"
        raise ValueError(tag)


def _tuple(ids) -> str:
    """Source of a tuple of node variables (``()`` when empty)."""
    names = [f"v{i}" for i in ids]
    return "(" + ", ".join(names) + ",)" if names else "()"


def _float_list(values) -> str:
    return "[" + ", ".join(f"_f64({repr(float(v))!r})" for v in values) + "]"


def check_order(ir: ModelIR, sched: Schedule) -> list[int]:
    """Order in which nodes are checked for NaN/inf: params, held values, then step order."""
    nodes = ir.nodes
    first = [i for i in sched.init if nodes[i].kind in ("param", "initial")]
    step = set(sched.step)
    static = [i for i in sched.init if nodes[i].kind == "aux" and i not in step]
    return first + static + list(sched.step) + list(sched.stocks)


def generate(ir: ModelIR, sched: Schedule, flavor: str) -> str:
    """Return the source of a module defining ``run(...)`` for ``flavor``.

    The generated ``run`` has the signature
    ``run(P, T, SAVE, CHK, SN, buf, T0, TF, DT, SP, BAD)``; see
    :mod:`sdkit.engine.kernel` for the meaning of each argument.
    """
    g = _Gen(ir, flavor)
    nodes = ir.nodes
    params = [i for i, nd in enumerate(nodes) if nd.kind == "param"]
    ind = "        " if flavor == "numba" else "    "
    body: list[str] = []

    def emit(line: str, extra: int = 0) -> None:
        body.append(ind + "    " * extra + line)

    for j, i in enumerate(params):
        emit(f"v{i} = P[{j}, s]" if flavor == "numba" else f"v{i} = P[{j}]")
    emit("t = T0")
    for i in sched.init:
        nd = nodes[i]
        if nd.kind == "param":
            continue
        if nd.kind == "stock":
            src = nd.init_expr
        elif nd.kind == "initial":
            src = nd.expr
        else:
            src = nd.init_expr if nd.init_expr is not None else nd.expr
        code = g.e(src)
        for line in g.flush():
            emit(line)
        emit(f"v{i} = {code}")
    allv = _tuple(range(len(nodes)))
    order = check_order(ir, sched)
    n_static = len(order) - len(sched.step) - len(sched.stocks)
    chk_all = _tuple(order)
    chk_dyn = _tuple(order[n_static:])
    emit("nsteps = T.shape[0] - 1")
    emit("k = 0")
    emit("while True:")
    emit("t = T[k]", 1)
    for i in sched.step:
        code = g.e(nodes[i].expr)
        for line in g.flush():
            emit(line, 1)
        emit(f"v{i} = {code}", 1)
    if flavor == "numpy":
        emit("if k == 0:", 1)
        emit(f"_bad = _F.first_bad({chk_all})", 2)
        emit("elif CHK[k] or k == nsteps:", 1)
        emit(f"_bad = _F.first_bad({chk_dyn}, {n_static})", 2)
        emit("else:", 1)
        emit("_bad = None", 2)
        emit("if _bad is not None:", 1)
        emit("return (k, _bad[0], _bad[1])", 2)
        emit("slot = SAVE[k]", 1)
        emit("if slot >= 0:", 1)
        emit(f"_vals = {allv}", 2)
        emit("for j in range(SN.shape[0]):", 2)
        emit("buf[j, slot] = _vals[SN[j]]", 3)
    else:

        def zero_sum(ids: list[int], level: int) -> None:
            emit("_z = 0.0", level)
            for start in range(0, len(ids), 40):
                terms = " + ".join(f"v{i} * 0.0" for i in ids[start : start + 40])
                emit(f"_z += {terms}", level)

        # x * 0.0 is 0 for finite x and NaN for NaN or inf
        emit("if k == 0:", 1)
        zero_sum(order, 2)
        emit("elif CHK[k] or k == nsteps:", 1)
        zero_sum(order[n_static:], 2)
        emit("else:", 1)
        emit("_z = 0.0", 2)
        emit("if _z != 0.0:", 1)
        emit("BAD[s, 0] = k", 2)
        emit("break", 2)
        emit("slot = SAVE[k]", 1)
        emit("if slot >= 0:", 1)
        for i in range(len(nodes)):
            emit(f"W[{i}] = v{i}", 2)
        emit("for j in range(SN.shape[0]):", 2)
        emit("buf[s, slot, j] = W[SN[j]]", 3)
    emit("if k == nsteps:", 1)
    emit("break", 2)
    for i in sched.stocks:
        code = g.e(nodes[i].flow)
        for line in g.flush():
            emit(line, 1)
        emit(f"d{i} = {code}", 1)
    for i in sched.stocks:
        upd = f"v{i} + d{i} * DT"
        if nodes[i].direct:
            emit(f"v{i} = d{i}", 1)
        elif nodes[i].nonneg:
            if flavor == "numpy":
                emit(f"v{i} = _np.maximum({upd}, 0.0)", 1)
            else:
                emit(f"_u = {upd}", 1)
                emit(f"v{i} = _u if (_u >= 0.0 or _u != _u) else 0.0", 1)
        else:
            emit(f"v{i} = {upd}", 1)
    emit("k += 1", 1)

    head = [
        "# generated by sdkit.engine.codegen from the model's AST; do not edit",
        "import numpy as _np",
    ]
    if flavor == "numpy":
        head.append("from sdkit.engine import functions as _F")
        if "_U." in "\n".join(body):
            head.append("from sdkit.engine import ufuncs as _U")
    else:
        head.append("import numba as _nb")
        head.append("from sdkit.engine import nbfunctions as _F")
    head.append("_f64 = _np.float64")
    if flavor == "numpy":
        for key, name in g.consts.items():
            head.append(f"{name} = _f64({key!r})")
    else:
        # numbers reach the compiled kernel as a runtime array, so LLVM cannot
        # specialise e.g. x ** 0.5 into sqrt(x) (different last bit than numpy)
        values = ", ".join(f"_f64({key!r})" for key in g.consts)
        head.append(f"CONSTS = _np.array([{values}], dtype=_np.float64)")
    for tid, lk in enumerate(ir.lookups):
        head.append(f"_lx{tid} = _np.array({_float_list(lk.x)}, dtype=_np.float64)")
        head.append(f"_ly{tid} = _np.array({_float_list(lk.y)}, dtype=_np.float64)")
    head.append("")
    if flavor == "numpy":
        head.append("def run(P, T, SAVE, CHK, SN, buf, T0, TF, DT, SP, BAD):")
        tail = ["    return None", ""]
    else:
        head.append("@_nb.njit(nogil=True, cache=True, error_model='numpy')")
        head.append("def run(P, T, SAVE, CHK, SN, buf, T0, TF, DT, SP, BAD, S0, S1, C):")
        head.append(f"    W = _np.empty({len(nodes)})")
        for j, name in enumerate(g.consts.values()):
            head.append(f"    {name} = C[{j}]")
        head.append("    for s in range(S0, S1):")
        tail = ["    return 0", ""]
    return "\n".join(head + body + tail)
