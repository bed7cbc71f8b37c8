"""The sign of a causal link, read from the equation that uses it.

A link ``x -> y`` is positive when ``y`` cannot fall as ``x`` rises, all else held
(the partial derivative of y's equation with respect to x is >= 0 wherever it
exists), negative when ``y`` cannot rise, and unknown when its sign depends on the
values of the variables (``None``). Into a stock, the equation is the stock's net
flow: a flow added in ``INTEG(in - out, init)`` is a positive link, a flow
subtracted a negative one; the initial value makes no link.

The link's sign is the sign of the interval that partial derivative can take,
computed by differentiating y's equation (PySD's abstract syntax tree) in interval
arithmetic (:mod:`sdkit.loops.intervals`), with each variable's interval of values
(:class:`sdkit.loops.graph.ModelSigns` says where those come from):

- ``+``, ``-``, ``*``, ``/``, ``^`` with an exponent free of x: the sum, product,
  quotient and power rules (``(a/b)' = a'/b - a b'/b^2``, ``(a^c)' = c a^(c-1) a'``);
- EXP and LN: the chain rule; SQRT, INTEGER and SUM: the sign of their argument's
  derivative (they never decrease);
- MIN, MAX, VMIN, VMAX, IF THEN ELSE (x not in the condition): any of the
  arguments' derivatives, whichever is chosen;
- a lookup: its segments' slopes (and 0, beyond its ends) times its argument's;
- SMOOTH, DELAY and SAMPLE IF TRUE: their input's derivative (the output follows
  the input with a lag);
- anything else (x in a comparison, a STEP/PULSE/RAMP time, TREND, ABS, an
  exponent, a smoothing or delay time): unknown.

Signs are weak: ``+1`` means ``>= 0`` everywhere, ``-1`` means ``<= 0``, ``0``
means exactly zero. Intervals over-estimate (a variable that occurs twice is
treated as two), so a link read as unknown may have a fixed sign in truth; one
read as signed has that sign for every value the intervals allow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sdkit.loops import intervals as iv
from sdkit.loops.intervals import Interval

Sign = int | None

_STATEFUL_INPUTS = {
    "SmoothStructure": ("input",),
    "SmoothNStructure": ("input",),
    "DelayStructure": ("input",),
    "DelayNStructure": ("input",),
    "DelayFixedStructure": ("input",),
    "SampleIfTrueStructure": ("input",),
}
ZERO: Interval = (0.0, 0.0)
ONE: Interval = (1.0, 1.0)
_SIGNED: dict[int, Interval] = {1: (0.0, math.inf), -1: (-math.inf, 0.0), 0: ZERO}


def multiply(*signs: Sign) -> Sign:
    """The sign of a product of factors with these signs (None if any is unknown)."""
    if any(s == 0 for s in signs):
        return 0
    if any(s is None for s in signs):
        return None
    return int(np.prod(signs))


def lookup_slopes(x: Iterable[float], y: Iterable[float]) -> Interval:
    """The slopes a lookup's segments take (0 included: the table is flat beyond its ends)."""
    xs, ys = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    if xs.size < 2:
        return iv.UNKNOWN if xs.size == 0 else ZERO
    order = np.argsort(xs)
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = np.diff(ys[order]) / np.diff(xs[order])
    if not np.all(np.isfinite(slopes)):
        return iv.UNKNOWN
    return iv.hull(iv.of_values(slopes), ZERO)


@dataclass
class Signs:
    """Sign reasoning over one model's equations.

    ``interval_of_name(name)`` gives the values a referenced variable can take and
    ``lookup_of_name(name)`` a lookup's (x, y) points, or None when ``name`` is no
    lookup (both are given the reference as PySD writes it: lower case, underscores).
    """

    interval_of_name: Callable[[str], Interval]
    lookup_of_name: Callable[[str], tuple | None]

    def derivative(self, node: Any, x: str) -> Interval:
        """The interval of d(node)/d(x), where x is a reference (lower case, underscores):
        forward differentiation in interval arithmetic; its sign is the link's sign."""
        from pysd.translators.structures import abstract_expressions as ae

        if not mentions(node, x):
            return ZERO
        if isinstance(node, ae.ReferenceStructure):
            return ONE
        if isinstance(node, ae.ArithmeticStructure):
            return self._arithmetic_derivative(node, x)
        if isinstance(node, ae.CallStructure):
            return self._call_derivative(node, x)
        if isinstance(node, ae.IntegStructure):
            return self.derivative(node.flow, x)
        if isinstance(node, ae.InitialStructure):  # fixed after the initial time
            return ZERO
        if isinstance(node, ae.InlineLookupsStructure):
            lookup = node.lookups
            return iv.multiply(lookup_slopes(lookup.x, lookup.y), self.derivative(node.argument, x))
        inputs = _STATEFUL_INPUTS.get(type(node).__name__)
        if inputs:  # the output follows its input, with a lag
            others = [getattr(node, f) for f in node.__dataclass_fields__ if f not in (*inputs, "initial")]
            if any(mentions(o, x) for o in others):
                return iv.UNKNOWN
            return self.derivative(node.input, x)
        return iv.UNKNOWN

    def value(self, node: Any) -> Interval:
        """The interval of values node can take."""
        from pysd.translators.structures import abstract_expressions as ae

        if isinstance(node, int | float | np.ndarray) and not isinstance(node, bool):
            return iv.of_values(np.ravel(node))
        if isinstance(node, ae.ReferenceStructure):
            return self.interval_of_name(node.reference)
        if isinstance(node, ae.LogicStructure):
            return (0.0, 1.0)
        if isinstance(node, ae.ArithmeticStructure):
            return self._arithmetic_value(node)
        if isinstance(node, ae.CallStructure):
            return self._call_value(node)
        if isinstance(node, ae.InlineLookupsStructure):
            return _lookup_interval(node.lookups)
        if type(node).__name__ in _STATEFUL_INPUTS:
            return iv.hull(self.value(node.input), self.value(node.initial))
        if isinstance(node, ae.InitialStructure):
            return self.value(node.initial)
        return iv.UNKNOWN

    def _arithmetic_derivative(self, node: Any, x: str) -> Interval:
        operators, arguments = node.operators, list(node.arguments)
        if operators == ["negative"]:
            return iv.negate(self.derivative(arguments[0], x))
        if len(operators) > 1:  # a left-to-right chain: (a op b) op c
            return self._arithmetic_derivative(_left_pair(operators, arguments), x)
        operator, (left, right) = operators[0], arguments
        d_left, d_right = self.derivative(left, x), self.derivative(right, x)
        if operator == "+":
            return iv.add(d_left, d_right)
        if operator == "-":
            return iv.add(d_left, iv.negate(d_right))
        if operator == "*":
            return iv.add(iv.multiply(d_left, self.value(right)), iv.multiply(self.value(left), d_right))
        if operator == "/":  # (a/b)' = a'/b - a b' / b^2
            quotient = iv.divide(d_left, self.value(right))
            if d_right == ZERO:
                return quotient
            b_squared = iv.power(iv.absolute(self.value(right)), iv.point(2))
            return iv.add(quotient, iv.negate(iv.divide(iv.multiply(self.value(left), d_right), b_squared)))
        if operator == "^" and d_right == ZERO:  # (a^c)' = c a^(c-1) a'
            c = self.value(right)
            lowered = iv.power(self.value(left), iv.add(c, iv.point(-1)))
            return iv.multiply(iv.multiply(c, lowered), d_left)
        return iv.UNKNOWN

    def _arithmetic_value(self, node: Any) -> Interval:
        operators, arguments = node.operators, node.arguments
        values = [self.value(a) for a in arguments]
        if operators == ["negative"]:
            return iv.negate(values[0])
        result = values[0]
        for operator, value in zip(operators, values[1:], strict=True):
            combine = _BINARY.get(operator)
            if combine is None:
                return iv.UNKNOWN
            result = combine(result, value)
        return result

    def _call_derivative(self, node: Any, x: str) -> Interval:
        function = node.function.reference
        arguments = list(node.arguments)
        table = self.lookup_of_name(function)
        if table is not None:
            return iv.multiply(lookup_slopes(*table), self.derivative(arguments[0], x))
        if function in ("min", "max", "vmin", "vmax"):  # follows whichever argument is chosen
            return iv.hull(*(self.derivative(a, x) for a in arguments))
        if function == "if_then_else":
            if mentions(arguments[0], x):
                return iv.UNKNOWN
            return iv.hull(*(self.derivative(a, x) for a in arguments[1:]))
        if function == "exp":
            return iv.multiply(iv.exp(self.value(arguments[0])), self.derivative(arguments[0], x))
        if function == "ln":
            return iv.divide(self.derivative(arguments[0], x), self.value(arguments[0]))
        if function in ("sqrt", "integer", "sum"):  # nondecreasing: only the sign is kept
            inner = iv.sign(self.derivative(arguments[0], x))
            return iv.UNKNOWN if inner is None else _SIGNED[inner]
        if function in ("zidz", "xidz"):
            from pysd.translators.structures import abstract_expressions as ae

            ratio = self.derivative(ae.ArithmeticStructure(["/"], tuple(arguments[:2])), x)
            return iv.hull(ratio, *(self.derivative(a, x) for a in arguments[2:])) if len(arguments) > 2 else ratio
        return iv.UNKNOWN

    def _call_value(self, node: Any) -> Interval:
        function = node.function.reference
        values = [self.value(a) for a in node.arguments]
        table = self.lookup_of_name(function)
        if table is not None:
            return iv.of_values(table[1])
        one = _UNARY.get(function)
        if one is not None and len(values) == 1:
            return one(values[0])
        if function in ("min", "vmin"):
            return iv.minimum(*values)
        if function in ("max", "vmax"):
            return iv.maximum(*values)
        if function == "if_then_else":
            return iv.hull(*values[1:])
        if function == "step":
            return iv.hull(values[0], iv.point(0))
        if function in ("pulse", "pulse_train"):
            return (0.0, 1.0)
        if function in ("zidz", "xidz"):
            return iv.hull(iv.divide(values[0], values[1]), values[2] if len(values) > 2 else iv.point(0))
        return iv.UNKNOWN


def _left_pair(operators: list, arguments: list) -> Any:
    """``a op1 b op2 c`` as ``(a op1 b) op2 c``: Vensim reads a chain left to right."""
    from pysd.translators.structures import abstract_expressions as ae

    head = ae.ArithmeticStructure(operators[:-1], tuple(arguments[:-1]))
    return ae.ArithmeticStructure(operators[-1:], (head, arguments[-1]))


def mentions(node: Any, x: str) -> bool:
    """Whether the reference x occurs anywhere in node (stateful initial values included)."""
    from pysd.translators.structures import abstract_expressions as ae

    from sdkit.structure import walk

    return any(isinstance(n, ae.ReferenceStructure) and n.reference == x
               for n in walk(node, enter_stateful=True))


def _lookup_interval(lookup: Any) -> Interval:
    return iv.of_values(lookup.y) if getattr(lookup, "type", "interpolate") != "extrapolate" else iv.UNKNOWN


_BINARY: dict[str, Callable[[Interval, Interval], Interval]] = {
    "+": iv.add,
    "-": lambda a, b: iv.add(a, iv.negate(b)),
    "*": iv.multiply,
    "/": iv.divide,
    "^": iv.power,
}
_UNARY: dict[str, Callable[[Interval], Interval]] = {
    "exp": iv.exp,
    "ln": iv.ln,
    "sqrt": iv.sqrt,
    "abs": iv.absolute,
    "integer": lambda a: (float(np.floor(a[0])), float(np.ceil(a[1]))),
    "sum": iv.total,
    "vmin": lambda a: a,
    "vmax": lambda a: a,
}
