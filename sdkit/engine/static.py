"""Compile-time evaluation of constant IR expressions (control variables, SMOOTH N orders)."""

from __future__ import annotations

import numpy as np

from sdkit.engine import ir as IR
from sdkit.engine.ir import Expr, ModelIR, Visitor


class NotStatic(Exception):
    """The expression depends on something that is not constant."""


CONTROL_ORDER = ("initial_time", "final_time", "time_step", "saveper")


def control_values(
    exprs: dict[str, Expr],
    ir: ModelIR,
    overrides: dict[str, float],
    used_params: set[int] | None = None,
    time: float | None = None,
) -> dict[str, float]:
    """Evaluate the control variables, given overrides, in dependency order.

    ``Time`` reads ``time`` when given, else the initial time (0 while the initial
    time itself is evaluated, as PySD does).

    Raises
    ------
    NotStatic
        If an expression needs a non-constant node or the definitions are circular.
    """
    values = {k: float(v) for k, v in overrides.items()}
    pending = [name for name in CONTROL_ORDER if name not in values]
    while pending:
        progress = False
        for name in list(pending):
            try:
                values[name] = static_eval(exprs[name], ir, values, used_params, time)
            except KeyError:
                continue
            pending.remove(name)
            progress = True
        if not progress:
            raise NotStatic("control variables defined in a circle: " + ", ".join(pending))
    return values


def variables_read(ir: ModelIR, used_params: set[int]) -> list[str]:
    """The variables (python names) with a node among ``used_params``, the constants a static evaluation read."""
    return [py for py, nodes in ir.var_nodes.items() if any(int(i) in used_params for i in np.ravel(nodes))]


def static_eval(
    e: Expr, ir: ModelIR, control: dict[str, float], used_params: set[int] | None = None,
    time: float | None = None,
) -> float:
    """Evaluate an expression of numbers, time and parameter-free nodes at ``time`` (default: the initial time).

    With ``used_params`` given, constants are allowed too (at their defaults) and
    their node indices are added to the set.
    """
    return _Static(ir, control, used_params, time).visit(e)


#: Control tag -> control variable.
_CONTROLS = {"t0": "initial_time", "tf": "final_time", "dt": "time_step", "sp": "saveper"}


class _Static(Visitor):
    """The value of an expression at the initial time (or at ``time``), or NotStatic."""

    def __init__(self, ir: ModelIR, control: dict[str, float], used_params: set[int] | None,
                 time: float | None = None) -> None:
        self.ir = ir
        self.control = control
        self.used_params = used_params
        self.time = time

    def visit_Const(self, e: IR.Const) -> float:
        return e.value

    def visit_Time(self, e: IR.Time) -> float:
        if self.time is not None:
            return self.time
        return self.control.get("initial_time", 0.0)

    def visit_Control(self, e: IR.Control) -> float:
        return self.control[_CONTROLS[e.name]]

    def visit_Ref(self, e: IR.Ref) -> float:
        node = self.ir.nodes[e.node]
        if node.kind == "aux" and node.expr is not None:
            return self.visit(node.expr)
        if node.kind == "param" and self.used_params is not None:
            self.used_params.add(e.node)
            return node.default
        raise NotStatic(node.label)

    def visit_Binary(self, e: IR.Binary) -> float:
        from sdkit.engine import functions as F

        a = self.visit(e.left)
        b = self.visit(e.right)
        return float(F.scalar_binop(e.op, a, b))

    def visit_Unary(self, e: IR.Unary) -> float:
        a = self.visit(e.arg)
        return -a if e.op == "-" else float(not a)

    def visit_If(self, e: IR.If) -> float:
        return self.visit(e.then if self.visit(e.cond) else e.other)

    def visit_Call(self, e: IR.Call) -> float:
        from sdkit.engine import functions as F

        if e.name in F.DISTRIBUTIONS:
            raise NotStatic(e.name.upper().replace("_", " "))
        args = [self.visit(a) for a in e.args]
        return float(F.numpy_function(e.name)(*args))

    def visit_LookupCall(self, e: IR.LookupCall) -> float:
        raise NotStatic("lookup")
