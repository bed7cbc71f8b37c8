"""The units of an expression, read from PySD's abstract syntax of one equation.

Rules: ``+``, ``-``, comparisons, MIN, MAX and the branches of IF THEN
ELSE need equal units and keep them; ``*`` and ``/`` combine units; ``^`` needs a
dimensionless exponent; EXP, LN, LOG and the trigonometric functions need a
dimensionless argument; SQRT halves the powers; a lookup returns its declared units
whatever its input; SMOOTH, DELAY and their kin keep their input's units and need a
time in the time unit; STEP keeps its height's units; PULSE is dimensionless; RAMP
is its slope times time; ``INTEG(flow, initial)`` needs the flow in the stock's
units per time unit. A bare number takes whatever units fit (:data:`ANY`), also in
a product; a variable without units, or a function these rules do not know, gives
:data:`UNKNOWN`, which is checked against nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pint

from sdkit.units import Units, same


class _Free:
    """A marker for units that are not fixed: a number (ANY) or not known (UNKNOWN)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


ANY = _Free("ANY")
UNKNOWN = _Free("UNKNOWN")

_SAME = {"min", "max", "abs", "integer", "modulo", "quantum", "vmin", "vmax", "sum",
         "active_initial", "random_uniform", "game"}
_DIMENSIONLESS_IN = {"exp", "ln", "log", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
                     "sinh", "cosh", "tanh"}
_LOOKUP_CALLS = {"lookup_extrapolate", "lookup_forward", "lookup_backward"}
_STATEFUL_TIMES = {"SmoothStructure": "smooth_time", "SmoothNStructure": "smooth_time",
                   "DelayStructure": "delay_time", "DelayNStructure": "delay_time",
                   "DelayFixedStructure": "delay_time", "ForecastStructure": "average_time"}
_OPERATORS = {"+": " + ", "-": " - ", "*": " * ", "/": " / ", "^": "^"}
_APPLY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
          "/": lambda a, b: a / b, "^": lambda a, b: a ** b}


def literal(node: Any) -> float | None:
    """The value of an expression written only with numbers (``-1``, ``1/2``), else None."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(node, int | float) and not isinstance(node, bool):
        return float(node)
    if isinstance(node, ae.ArithmeticStructure):
        values = [literal(a) for a in node.arguments]
        if any(v is None for v in values):
            return None
        if node.operators == ["negative"]:
            return -values[0]
        result = values[0]
        try:
            for op, value in zip(node.operators, values[1:], strict=True):
                result = _APPLY[op](result, value)
        except (ArithmeticError, ValueError, KeyError):  # 1/0, 10^400, an operator of another kind
            return None
        return float(result) if isinstance(result, int | float) and np.isfinite(result) else None
    return None


class EquationUnits:
    """Reads the units of one equation's expressions and collects its inconsistencies.

    ``problems`` holds ``(where, left, right, fix)`` tuples.
    """

    def __init__(self, units: Units, declared: dict[str, pint.Quantity | None],
                 names: dict[str, Any], time_unit: pint.Quantity | None) -> None:
        self.units, self.declared, self.names, self.time_unit = units, declared, names, time_unit
        self.problems: list[tuple[str, str, str, str]] = []

    def show(self, value: Any) -> str:
        return "a number" if value is ANY else self.units.text(value)

    def flag(self, where: Any, left: Any, right: Any, fix: str) -> None:
        self.problems.append((self.text(where) if not isinstance(where, str) else where,
                              self.show(left), self.show(right), fix))

    def check_equation(self, variable: Any, left: pint.Quantity | None, ast: Any) -> None:
        """The right side of ``variable``'s equation against its declared units ``left``."""
        from pysd.translators.structures import abstract_expressions as ae

        if isinstance(ast, ae.IntegStructure):
            self._check_stock(variable, left, ast)
            return
        right = self.of(ast)
        if left is None or isinstance(right, _Free) or same(left, right):
            return
        ratio = self.units.text(right / left)
        self.flag(f"{variable.name} = {self.text(ast)}", left, right,
                  f"declare the units as {self.show(right)}, or divide the right side by a "
                  f"quantity in {ratio}")

    def check_control(self, variable: Any, left: pint.Quantity | None) -> None:
        """INITIAL TIME, FINAL TIME, TIME STEP and SAVEPER share the time unit."""
        if left is not None and self.time_unit is not None and not same(left, self.time_unit):
            self.flag(variable.name, left, self.time_unit,
                      f"give {variable.name} the units of TIME STEP ({self.show(self.time_unit)})")

    def _check_stock(self, variable: Any, left: pint.Quantity | None, ast: Any) -> None:
        flow = self.of(ast.flow)
        initial = self.of(ast.initial)
        if left is None:
            return
        if self.time_unit is not None and not isinstance(flow, _Free):
            needed = left / self.time_unit
            if not same(flow, needed):
                self.flag(f"INTEG({self.text(ast.flow)}, ...)", needed, flow,
                          f"the flows of a stock in {self.show(left)} need {self.show(needed)}: "
                          f"declare the flows so, or the stock in {self.show(flow * self.time_unit)}")
        if not isinstance(initial, _Free) and not same(initial, left):
            self.flag(f"INTEG(..., {self.text(ast.initial)})", left, initial,
                      f"give the initial value the stock's units, {self.show(left)}")

    def of(self, node: Any) -> Any:
        """The units of an expression: a pint Quantity, ANY or UNKNOWN."""
        from pysd.translators.structures import abstract_expressions as ae

        if isinstance(node, int | float | np.ndarray | np.number) and not isinstance(node, bool):
            return ANY
        if isinstance(node, _Known):
            return node.value
        if isinstance(node, ae.ReferenceStructure):
            return self._reference(node.reference)
        if isinstance(node, ae.ArithmeticStructure):
            return self._arithmetic(node)
        if isinstance(node, ae.LogicStructure):
            return self._logic(node)
        if isinstance(node, ae.CallStructure):
            return self._call(node)
        if isinstance(node, ae.InitialStructure):
            return self.of(node.initial)
        if isinstance(node, ae.IntegStructure):
            return UNKNOWN
        if isinstance(node, ae.InlineLookupsStructure):
            self.of(node.argument)
            return ANY  # the equation's own units: its lookup defines them
        if isinstance(node, ae.GameStructure):
            return self.of(node.expression)
        return self._stateful(node)

    def _reference(self, reference: str) -> Any:
        if reference == "time":
            return UNKNOWN if self.time_unit is None else self.time_unit
        variable = self.names.get(reference)
        units = None if variable is None else self.declared.get(variable.py_name)
        return UNKNOWN if units is None else units

    def agree(self, node: Any, parts: list[Any]) -> Any:
        """Units that must be equal (terms of a sum, MIN's arguments): the common units."""
        values = [self.of(p) for p in parts]
        known = [(p, v) for p, v in zip(parts, values, strict=True) if not isinstance(v, _Free)]
        for part, value in known[1:]:
            if not same(value, known[0][1]):
                ratio = self.units.text(value / known[0][1])
                self.flag(node, known[0][1], value,
                          f"make {self.text(part)} agree with {self.text(known[0][0])}: "
                          f"divide it by a quantity in {ratio}, or fix a units field")
                return UNKNOWN
        if any(v is UNKNOWN for v in values):
            return UNKNOWN
        return known[0][1] if known else ANY

    def _arithmetic(self, node: Any) -> Any:
        args, ops = list(node.arguments), list(node.operators)
        if ops == ["negative"]:
            return self.of(args[0])
        if set(ops) <= {"+", "-"}:
            return self.agree(node, args)
        result = self.of(args[0])
        for op, arg in zip(ops, args[1:], strict=True):
            if op == "^":
                result = self._power(node, result, arg)
                continue
            value = self.of(arg)
            if result is UNKNOWN or value is UNKNOWN:
                result = UNKNOWN
            elif result is ANY or value is ANY:
                result = ANY
            else:
                result = result * value if op == "*" else result / value
        return result

    def _power(self, node: Any, base: Any, exponent: Any) -> Any:
        power = self.of(exponent)
        if not isinstance(power, _Free) and not power.dimensionless:
            self.flag(node, self.units.one, power, "make the exponent dimensionless (Dmnl)")
            return UNKNOWN
        if isinstance(base, _Free) or base.dimensionless:
            return base
        value = literal(exponent)
        if value is None:
            self.flag(node, self.units.one, base,
                      "raise only a dimensionless quantity to a variable power: divide it by a reference value")
            return UNKNOWN
        return base ** value

    def _logic(self, node: Any) -> Any:
        if set(node.operators) & {"=", "<>", "<", ">", "<=", ">="}:
            self.agree(node, list(node.arguments))
        else:
            for argument in node.arguments:
                self.of(argument)
        return self.units.one

    def _call(self, node: Any) -> Any:
        name = getattr(node.function, "reference", str(node.function))
        args = list(node.arguments)
        variable = self.names.get(name)
        if variable is not None and variable.kind == "lookup":
            for argument in args:
                self.of(argument)
            return self._reference(name)
        if name in _SAME:
            return self.agree(node, args[:2] if name in ("modulo", "random_uniform", "active_initial") else args)
        if name == "if_then_else":
            self.of(args[0])
            return self.agree(node, args[1:])
        if name in _DIMENSIONLESS_IN:
            self._need_dimensionless(node, args[:1])
            return self.units.one
        return self._call_special(node, name, args)

    def _call_special(self, node: Any, name: str, args: list[Any]) -> Any:
        if name == "sqrt":
            value = self.of(args[0])
            return value if isinstance(value, _Free) else value ** 0.5
        if name == "step":
            self._need_time(node, args[1:2])
            return self.of(args[0])
        if name in ("pulse", "pulse_train"):
            self._need_time(node, args)
            return self.units.one
        if name == "ramp":
            self._need_time(node, args[1:])
            slope = self.of(args[0])
            return slope if isinstance(slope, _Free) or self.time_unit is None else slope * self.time_unit
        if name in ("xidz", "zidz"):
            quotient = self._arithmetic(_Quotient(args[:2]))
            return self.agree(node, [_Known(quotient), args[2]]) if name == "xidz" else quotient
        if name in _LOOKUP_CALLS and args:
            for argument in args[1:]:
                self.of(argument)
            return self._reference(getattr(args[0], "reference", ""))
        for argument in args:
            self.of(argument)
        return UNKNOWN

    def _need_dimensionless(self, node: Any, args: list[Any]) -> None:
        for argument in args:
            value = self.of(argument)
            if not isinstance(value, _Free) and not value.dimensionless:
                self.flag(node, self.units.one, value,
                          f"make {self.text(argument)} dimensionless: divide it by a reference value in {self.show(value)}")

    def _need_time(self, node: Any, args: list[Any]) -> None:
        for argument in args:
            value = self.of(argument)
            if self.time_unit is not None and not isinstance(value, _Free) and not same(value, self.time_unit):
                self.flag(node, self.time_unit, value,
                          f"give {self.text(argument)} the time unit, {self.show(self.time_unit)}")

    def _stateful(self, node: Any) -> Any:
        kind = type(node).__name__
        if kind in _STATEFUL_TIMES:
            self._need_time(node, [getattr(node, _STATEFUL_TIMES[kind])])
            value = self.of(node.input)
            initial = getattr(node, "initial", None)
            if initial is not None and not isinstance(initial, str):
                self.agree(node, [_Known(value), initial])
            return value
        if kind == "SampleIfTrueStructure":
            self.of(node.condition)
            return self.agree(node, [node.input, node.initial])
        if kind == "TrendStructure":
            self._need_time(node, [node.average_time])
            self.of(node.input)
            return UNKNOWN if self.time_unit is None else 1 / self.time_unit
        return UNKNOWN

    def text(self, node: Any) -> str:
        """An expression written back in the model's names, cut at 70 characters."""
        text = self._text(node)
        return text if len(text) <= 70 else text[:67] + "..."

    def _text(self, node: Any) -> str:
        from pysd.translators.structures import abstract_expressions as ae

        if isinstance(node, _Known | _Quotient):
            return node.text(self)
        if isinstance(node, int | float | np.number):
            return f"{node:g}"
        if isinstance(node, ae.ReferenceStructure):
            variable = self.names.get(node.reference)
            return "Time" if node.reference == "time" else (variable.name if variable else node.reference)
        if isinstance(node, ae.ArithmeticStructure | ae.LogicStructure):
            if node.operators == ["negative"]:
                return f"-{self._nested(node.arguments[0])}"
            if node.operators == [":NOT:"] or node.operators == ["not"]:
                return f":NOT: {self._nested(node.arguments[0])}"
            parts = [self._nested(node.arguments[0])]
            for op, arg in zip(node.operators, node.arguments[1:], strict=True):
                parts.append(_OPERATORS.get(op, f" {op} ") + self._nested(arg))
            return "".join(parts)
        if isinstance(node, ae.CallStructure):
            name = getattr(node.function, "reference", str(node.function))
            variable = self.names.get(name)
            shown = variable.name if variable else name.upper().replace("_", " ")
            return f"{shown}({', '.join(self._text(a) for a in node.arguments)})"
        kind = type(node).__name__.replace("Structure", "").upper()
        return f"{kind}(...)"

    def _nested(self, node: Any) -> str:
        from pysd.translators.structures import abstract_expressions as ae

        text = self._text(node)
        return f"({text})" if isinstance(node, ae.ArithmeticStructure | ae.LogicStructure) and node.operators != ["negative"] else text


class _Known:
    """Units already read, standing in for an argument (XIDZ's quotient, a stateful's input)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def text(self, walker: EquationUnits) -> str:
        return "its input"


class _Quotient:
    """``a / b`` of XIDZ and ZIDZ, read as an arithmetic node."""

    operators = ["/"]

    def __init__(self, arguments: list[Any]) -> None:
        self.arguments = arguments

    def text(self, walker: EquationUnits) -> str:
        return f"{walker.text(self.arguments[0])} / {walker.text(self.arguments[1])}"
