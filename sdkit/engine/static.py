"""Compile-time evaluation of constant IR expressions (control variables, SMOOTH N orders)."""

from __future__ import annotations

from sdkit.engine.ir import Expr, ModelIR


class NotStatic(Exception):
    """The expression depends on something that is not constant."""


CONTROL_ORDER = ("initial_time", "final_time", "time_step", "saveper")


def control_values(
    exprs: dict[str, Expr],
    ir: ModelIR,
    overrides: dict[str, float],
    used_params: set[int] | None = None,
) -> dict[str, float]:
    """Evaluate the control variables, given overrides, in dependency order.

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
                values[name] = static_eval(exprs[name], ir, values, used_params)
            except KeyError:
                continue
            pending.remove(name)
            progress = True
        if not progress:
            raise NotStatic("control variables defined in a circle: " + ", ".join(pending))
    return values


def static_eval(
    e: Expr, ir: ModelIR, control: dict[str, float], used_params: set[int] | None = None
) -> float:
    """Evaluate an expression of numbers, time and parameter-free nodes at the initial time.

    With ``used_params`` given, constants are allowed too (at their defaults) and
    their node indices are added to the set.
    """
    from sdkit.engine import functions as F

    tag = e[0]
    if tag == "c":
        return e[1]
    if tag == "time" or tag == "t0":
        return control["initial_time"]
    if tag == "dt":
        return control["time_step"]
    if tag == "tf":
        return control["final_time"]
    if tag == "sp":
        return control["saveper"]
    if tag == "v":
        node = ir.nodes[e[1]]
        if node.kind == "aux" and node.expr is not None:
            return static_eval(node.expr, ir, control, used_params)
        if node.kind == "param" and used_params is not None:
            used_params.add(e[1])
            return node.default
        raise NotStatic(node.label)
    args = []
    if tag == "bin":
        a = static_eval(e[2], ir, control, used_params)
        b = static_eval(e[3], ir, control, used_params)
        return float(F.scalar_binop(e[1], a, b))
    if tag == "neg":
        return -static_eval(e[1], ir, control, used_params)
    if tag == "not":
        return float(not static_eval(e[1], ir, control, used_params))
    if tag == "if":
        c = static_eval(e[1], ir, control, used_params)
        return static_eval(e[2] if c else e[3], ir, control, used_params)
    if tag == "fn":
        args = [static_eval(a, ir, control, used_params) for a in e[2]]
        return float(F.numpy_function(e[1])(*args))
    raise NotStatic(tag)
