"""Scalar intermediate representation shared by the translator and the code generators.

Every subscripted variable is expanded into one scalar *node* per element, so
that the generated code only ever handles scalars (numpy: one array over the
sample axis per node; numba: one float per node inside a loop over samples).

Expressions are nested tuples whose first item is a tag:

``("c", value)``
    a number.
``("v", index)``
    the value of node ``index``.
``("time",)``, ``("t0",)``, ``("tf",)``, ``("dt",)``, ``("sp",)``
    current time and the control variables.
``("neg", a)``, ``("not", a)``
    unary minus and logical negation.
``("bin", op, a, b)``
    binary operator, ``op`` one of ``+ - * / ^ == != < > <= >= and or``.
``("fn", name, args)``
    pure function of its arguments (``abs``, ``exp``, ``min``, ``xidz``, ...).
``("if", cond, a, b)``
    IF THEN ELSE.
``("lookup", table, x)``
    piecewise-linear (or hold) lookup through table number ``table``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Expr = tuple

#: Functions of time.
TIME_TAGS = ("time",)
#: Tags of control variables (constant during one run).
CONTROL_TAGS = ("t0", "tf", "dt", "sp")


@dataclass
class Node:
    """One scalar quantity of the expanded model.

    Attributes
    ----------
    kind : str
        ``"param"`` (overridable constant), ``"aux"`` (computed every step),
        ``"stock"`` (integrated state) or ``"initial"`` (computed once at the
        initial time and then held).
    label : str
        Python name of the model variable the node belongs to (used in error
        messages), with the element in brackets for subscripted variables.
    expr : tuple or None
        Expression of an aux (value every step) or of an initial node.
    init_expr : tuple or None
        Expression used during initialisation instead of ``expr``
        (ACTIVE INITIAL), or the initial value of a stock.
    flow : tuple or None
        Time derivative of a stock.
    nonneg : bool
        Stock clipped at zero after each step (INTEG ... :NON-NEGATIVE).
    default : float
        Default value of a param.
    """

    kind: str
    label: str
    expr: Expr | None = None
    init_expr: Expr | None = None
    flow: Expr | None = None
    nonneg: bool = False
    default: float = float("nan")
    #: stock updated as ``value = flow`` instead of ``value + flow * dt`` (shift register)
    direct: bool = False


@dataclass
class Lookup:
    """A lookup table: sorted x, y and the interpolation mode."""

    x: np.ndarray
    y: np.ndarray
    mode: str  # "interpolate", "hold_backward" or "extrapolate"


@dataclass
class ModelIR:
    """The expanded scalar model plus the metadata the Kernel exposes."""

    nodes: list[Node] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)
    #: python name -> model name
    names: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    limits: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    dims: dict[str, list[str]] = field(default_factory=dict)
    var_dims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: python name -> array of node indices over the variable's dims (-1 = undefined)
    var_nodes: dict[str, np.ndarray] = field(default_factory=dict)
    stocks: list[str] = field(default_factory=list)
    constants: list[str] = field(default_factory=list)
    control: dict[str, float] = field(default_factory=dict)
    #: python name -> (x min, x max) of the lookup tables it reads at Time (narrowest range)
    time_lookups: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: constants that the control variables are computed from (cannot vary per sample)
    control_params: set[str] = field(default_factory=set)
    #: control variable -> IR expression (re-evaluated when another one is overridden)
    control_ir: dict[str, tuple] = field(default_factory=dict)
    #: constants fixed at compile time (SMOOTH N / DELAY N orders, DELAY FIXED times) -> where
    structural: dict[str, str] = field(default_factory=dict)
    #: TIME STEP the DELAY FIXED pipelines were built for (None: no DELAY FIXED)
    fixed_time_step: float | None = None

    def add(self, node: Node) -> int:
        """Append ``node`` and return its index."""
        self.nodes.append(node)
        return len(self.nodes) - 1


def refs(expr: Any, out: set[int] | None = None) -> set[int]:
    """Return the set of node indices an expression reads."""
    if out is None:
        out = set()
    if not isinstance(expr, tuple) or not expr:
        return out
    tag = expr[0]
    if tag == "v":
        out.add(expr[1])
    elif tag == "c":
        pass
    elif tag == "fn":
        for a in expr[2]:
            refs(a, out)
    elif tag == "lookup":
        refs(expr[2], out)
    elif tag == "bin":
        refs(expr[2], out)
        refs(expr[3], out)
    else:
        for a in expr[1:]:
            refs(a, out)
    return out


def uses_time(expr: Any) -> bool:
    """True if an expression reads the current time directly."""
    if not isinstance(expr, tuple) or not expr:
        return False
    tag = expr[0]
    if tag == "time":
        return True
    if tag in ("v", "c"):
        return False
    if tag == "fn":
        return any(uses_time(a) for a in expr[2])
    if tag == "lookup":
        return uses_time(expr[2])
    if tag == "bin":
        return uses_time(expr[2]) or uses_time(expr[3])
    return any(uses_time(a) for a in expr[1:] if isinstance(a, tuple))
