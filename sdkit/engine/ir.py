"""Scalar intermediate representation shared by the translator and the code generators.

Every subscripted variable is expanded into one scalar *node* per element, so
that the generated code only ever handles scalars (numpy: one array over the
sample axis per node; numba: one float per node inside a loop over samples).

Expressions are trees of small frozen records, one class per kind of node:
:class:`Const` (a number), :class:`Ref` (the value of another node),
:class:`Time` and :class:`Control` (the clock and the control variables),
:class:`Unary` (``-`` and ``not``), :class:`Binary` (``+ - * / ^ == != < > <= >= and or``),
:class:`Call` (a pure function such as ``abs``, ``exp``, ``xidz``), :class:`If`
and :class:`LookupCall`. :func:`children` lists a node's operands in order;
:class:`Visitor` dispatches on the node's class (the code generators and the
compile-time evaluator are visitors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np


@dataclass(frozen=True, slots=True)
class Const:
    """A number."""

    value: float


@dataclass(frozen=True, slots=True)
class Ref:
    """The value of node number ``node``."""

    node: int


@dataclass(frozen=True, slots=True)
class Time:
    """The current time."""


@dataclass(frozen=True, slots=True)
class Control:
    """A control variable, constant during a run (initial and final time, time step, saving period)."""

    name: Literal["t0", "tf", "dt", "sp"]


@dataclass(frozen=True, slots=True)
class Unary:
    """Minus, or logical negation (1 where ``arg`` is 0, else 0)."""

    op: Literal["-", "not"]
    arg: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    """A binary operator; a comparison, ``and`` or ``or`` gives 1 or 0."""

    op: Literal["+", "-", "*", "/", "^", "==", "!=", "<", ">", "<=", ">=", "and", "or"]
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Call:
    """A pure function of its arguments (``abs``, ``exp``, ``min``, ``xidz``, ``step``, ...)."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class If:
    """IF THEN ELSE."""

    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True, slots=True)
class LookupCall:
    """A piecewise-linear (or hold) lookup through table number ``table`` at ``x``."""

    table: int
    x: Expr


Expr = Const | Ref | Time | Control | Unary | Binary | Call | If | LookupCall
#: Nodes without operands.
LEAVES = (Const, Ref, Time, Control)


def children(expr: Expr) -> tuple[Expr, ...]:
    """The operands of an expression node, in order."""
    match expr:
        case Unary(_, arg):
            return (arg,)
        case Binary(_, left, right):
            return (left, right)
        case Call(_, args):
            return args
        case If(cond, then, other):
            return (cond, then, other)
        case LookupCall(_, x):
            return (x,)
    return ()


class Visitor:
    """Calls ``visit_<Kind>(node)`` for a node of class ``Kind``.

    A subclass defines one method per kind of node; a missing one is an error when the
    class is created, not when a model first uses that kind.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [kind.__name__ for kind in _KINDS if not hasattr(cls, f"visit_{kind.__name__}")]
        if missing:
            raise TypeError(f"{cls.__name__} has no visit_{missing[0]} (IR node kind)")

    def visit(self, expr: Expr) -> Any:
        return getattr(self, _METHODS[type(expr)])(expr)


_KINDS = (Const, Ref, Time, Control, Unary, Binary, Call, If, LookupCall)
_METHODS = {kind: f"visit_{kind.__name__}" for kind in _KINDS}


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
    direct, lag : bool, int
        Stock whose value is its flow of ``lag`` steps before (see the attributes).
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
    #: a direct stock's value is its flow of this many steps before (DELAY FIXED: a delay line, whose
    #: generated code keeps the last ``lag`` flows in a ring; 1 is a shift register's cell)
    lag: int = 1

    @property
    def initial_value(self) -> Expr | None:
        """The expression that gives the node its value at the initial time: a stock's initial
        value, an initial node's expression, else ``init_expr`` (ACTIVE INITIAL) or ``expr``."""
        if self.kind == "stock":
            return self.init_expr
        if self.kind == "initial":
            return self.expr
        return self.init_expr if self.init_expr is not None else self.expr


@dataclass
class Lookup:
    """A lookup table: sorted x, y and the interpolation mode."""

    x: np.ndarray
    y: np.ndarray
    mode: str  # "interpolate", "hold_backward", "extrapolate", "look_forward" or "raw" (data only)

    @property
    def code(self) -> int:
        """The number of the mode that the generated code passes to ``lookup``."""
        return ("interpolate", "hold_backward", "extrapolate", "look_forward", "raw").index(self.mode)


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
    #: constants that the control variables are computed from (cannot vary per sample)
    control_params: set[str] = field(default_factory=set)
    #: control variable -> IR expression (re-evaluated when another one is overridden)
    control_ir: dict[str, tuple] = field(default_factory=dict)
    #: constants fixed at compile time (SMOOTH N / DELAY N orders, DELAY FIXED times) -> where
    structural: dict[str, str] = field(default_factory=dict)
    #: control variables written as functions of Time -> the aux node computed from each every step
    varying_controls: dict[str, int] = field(default_factory=dict)
    #: TIME STEP the DELAY FIXED delay lines were built for (None: no DELAY FIXED)
    fixed_time_step: float | None = None
    #: hidden param nodes (seed, sample number) that RANDOM draws read (None: no RANDOM call)
    random_key: tuple[int, int] | None = None
    #: RANDOM calls translated so far (each element of an equation is one call)
    random_calls: int = 0

    def add(self, node: Node) -> int:
        """Append ``node`` and return its index."""
        self.nodes.append(node)
        return len(self.nodes) - 1


def refs(expr: Expr | None, out: set[int] | None = None) -> set[int]:
    """Return the set of node indices an expression reads."""
    if out is None:
        out = set()
    if isinstance(expr, Ref):
        out.add(expr.node)
    elif expr is not None:
        for child in children(expr):
            refs(child, out)
    return out


def uses_time(expr: Expr | None) -> bool:
    """True if an expression reads the current time directly."""
    if isinstance(expr, Time):
        return True
    return expr is not None and any(uses_time(child) for child in children(expr))
