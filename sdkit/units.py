"""Units of measure: read every equation's units and check that both sides agree.

A units field is read as Vensim writes it (``Dmnl``, ``1/Year``, ``widgets/Year``,
``$/(person*Year)``, ``Year^2``; the ``[min,max]`` range after it is not units).
Each name is a base unit of its own, as in Vensim, which compares units by name:
``Month`` and ``Year`` do not convert. Names are case-insensitive, the plural of a
time unit is the same unit (``Years`` is ``Year``), and ``Dmnl``, ``dimensionless``
and ``1`` are dimensionless. The algebra of units is pint's.

The units of an equation's right-hand side are read from the variables it uses
(:mod:`sdkit.unit_rules` holds the rules of the operators and functions) and
compared with the units its units field declares; a stock's inflows and outflows
must have the stock's units per time unit (the units of ``TIME STEP``). A bare
number takes whatever units fit, and a variable without units is not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pint

from sdkit.errors import UnitsError
from sdkit.locate import canonical, equation_lines

if TYPE_CHECKING:
    from sdkit.model import Model

#: Spellings that name the same unit (Vensim's own synonyms for time units), and the dimensionless.
SYNONYMS = {
    "years": "year", "months": "month", "weeks": "week", "days": "day", "hours": "hour",
    "minutes": "minute", "seconds": "second", "quarters": "quarter",
}
DIMENSIONLESS = {"dmnl", "dimensionless"}
_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
                    r"|(?P<name>[^\W\d][\w$]*(?:[ \t]+[^\W\d][\w$]*)*|\$[\w$]*)|(?P<op>[*/^()-]))")


class Units:
    """The units a model's fields name: a pint registry whose every unit is a base unit of its own."""

    def __init__(self) -> None:
        self.registry = pint.UnitRegistry(None)
        self.one = self.registry.Quantity(1)
        #: canonical unit name -> the spelling first met in the model (for messages)
        self.spelling: dict[str, str] = {}

    def parse(self, text: str) -> pint.Quantity:
        """A units string as a pint Quantity of magnitude 1 (``"Dmnl"`` -> dimensionless).

        Raises
        ------
        ValueError
            With the reason, when ``text`` is not a units expression.
        """
        tokens = self._tokens(text)
        value, rest = self._product(tokens)
        if rest:
            raise ValueError(f"unexpected {rest[0][1]!r}")
        return value

    def _tokens(self, text: str) -> list[tuple[str, str]]:
        tokens, at = [], 0
        text = text.strip()
        while at < len(text):
            match = _TOKEN.match(text, at)
            if not match or match.end() == at:
                raise ValueError(f"unexpected {text[at:at + 10]!r}")
            kind = match.lastgroup
            tokens.append((kind, match[kind]))
            at = match.end()
        if not tokens:
            raise ValueError("it is empty")
        return tokens

    def _product(self, tokens: list) -> tuple[pint.Quantity, list]:
        value, tokens = self._power(tokens)
        while tokens and tokens[0][1] in ("*", "/"):
            op = tokens[0][1]
            right, tokens = self._power(tokens[1:])
            value = value * right if op == "*" else value / right
        return value, tokens

    def _power(self, tokens: list) -> tuple[pint.Quantity, list]:
        value, tokens = self._factor(tokens)
        if tokens and tokens[0][1] == "^":
            sign = -1 if len(tokens) > 1 and tokens[1][1] == "-" else 1
            tokens = tokens[2:] if sign < 0 else tokens[1:]
            if not tokens or tokens[0][0] != "number":
                raise ValueError("'^' must be followed by a number")
            value, tokens = value ** (sign * float(tokens[0][1])), tokens[1:]
        return value, tokens

    def _factor(self, tokens: list) -> tuple[pint.Quantity, list]:
        if not tokens:
            raise ValueError("it ends after an operator")
        kind, text = tokens[0]
        if kind == "number":
            return self.registry.Quantity(float(text)), tokens[1:]
        if kind == "name":
            return self.unit(text), tokens[1:]
        if text == "(":
            value, rest = self._product(tokens[1:])
            if not rest or rest[0][1] != ")":
                raise ValueError("a '(' is not closed")
            return value, rest[1:]
        raise ValueError(f"unexpected {text!r}")

    def unit(self, name: str) -> pint.Quantity:
        """One unit by name, defined as a new base unit the first time it is met."""
        key = re.sub(r"\s+", "_", name.strip().lower())
        if key in DIMENSIONLESS:
            return self.one
        key = SYNONYMS.get(key, key)
        safe = "u_" + (key.replace("$", "dollar") if key.replace("$", "").isascii() else key.encode().hex())
        safe = re.sub(r"\W", "_", safe)
        if safe not in self.spelling:
            self.registry.define(f"{safe} = [{safe}]")
            self.spelling[safe] = name.strip()
        return self.registry.Quantity(1, safe)

    def text(self, value: pint.Quantity) -> str:
        """Units written as Vensim writes them: ``widgets/Year``, ``1/Year``, ``Dmnl``."""
        def part(name: str, power: float) -> str:
            power = abs(power)
            shown = self.spelling.get(name, name)
            return shown if power == 1 else f"{shown}^{power:g}"

        items = sorted(value.unit_items())
        top = "*".join(part(n, p) for n, p in items if p > 0)
        bottom = [part(n, p) for n, p in items if p < 0]
        scale = "" if value.magnitude == 1 else f"{value.magnitude:g}"
        top = "*".join(s for s in (scale, top) if s)
        if not bottom:
            return top or "Dmnl"
        below = bottom[0] if len(bottom) == 1 else f"({'*'.join(bottom)})"
        return f"{top or '1'}/{below}"


def same(a: pint.Quantity, b: pint.Quantity) -> bool:
    """Whether two units are the same (same base units, same scale)."""
    ratio = a / b
    return bool(ratio.dimensionless and abs(ratio.magnitude - 1) < 1e-12)


@dataclass(frozen=True)
class UnitsProblem:
    """An inconsistency in one equation: where, the units on each side, and a fix."""

    variable: str
    line: int | None
    where: str
    left: str
    right: str
    fix: str


@dataclass
class UnitsReport:
    """The units check of one model."""

    model: str
    problems: list[UnitsProblem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    without_units: list[str] = field(default_factory=list)
    time_unit: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems

    def text(self) -> str:
        """The findings as a table and a tally, for the command line."""
        from sdkit.report import table

        head = (f"units: {len(self.checked)} equations checked (time unit {self.time_unit or 'not declared'})"
                + (f", {len(self.without_units)} without units not checked" if self.without_units else ""))
        if self.passed:
            return f"{head}: all consistent"
        rows = [[p.variable, "" if p.line is None else str(p.line), p.where, p.left, p.right, p.fix]
                for p in self.problems]
        return (f"{head}: {len(self.problems)} inconsistent\n"
                + table(["variable", "line", "where", "left side", "right side", "fix"], rows))


def declared_units(model: Model, units: Units) -> dict[str, pint.Quantity | None]:
    """Each variable's declared units by PySD reference name (None: no units given).

    Raises
    ------
    UnitsError
        A units field that does not parse, naming the variable, its line and the text.
    """
    lines = equation_lines(model.text)
    declared: dict[str, pint.Quantity | None] = {}
    for variable in model.variables.values():
        text = variable.units.strip()
        if not text:
            declared[variable.py_name] = None
            continue
        try:
            declared[variable.py_name] = units.parse(text)
        except (ValueError, pint.errors.PintError) as exc:
            line = lines.get(canonical(variable.name))
            where = f" (line {line})" if line else ""
            raise UnitsError(
                f"{model.path.name}: the units of {variable.name!r}{where}, {text!r}, do not parse ({exc}); "
                "write units as Vensim does, e.g. widgets/Year, 1/Year or Dmnl"
            ) from None
    return declared


def check_units(model: Model) -> UnitsReport:
    """Check every equation of ``model`` for consistent units.

    >>> import sdkit
    >>> from pathlib import Path
    >>> decay = sdkit.load_model(Path(sdkit.__file__).parents[1] / "tests" / "data" / "decay.mdl")
    >>> check_units(decay).passed
    True

    Raises
    ------
    UnitsError
        A units field that does not parse.
    """
    from sdkit.unit_rules import EquationUnits

    units = Units()
    declared = declared_units(model, units)
    time_unit = _time_unit(model, declared)
    report = UnitsReport(model.path.name, time_unit="" if time_unit is None else units.text(time_unit))
    lines = equation_lines(model.text)
    names = {clean: v for v in model.variables.values() for clean in (v.py_name, canonical(v.name))}
    for element in model.abstract_model.sections[0].elements:
        variable = names.get(canonical(element.name))
        if variable is None or variable.kind in ("lookup", "constant"):
            continue
        walker = EquationUnits(units, declared, names, time_unit)
        left = declared.get(variable.py_name)
        if variable.kind == "control":
            walker.check_control(variable, left)
        else:
            for component in element.components:
                walker.check_equation(variable, left, component.ast)
        (report.checked if left is not None else report.without_units).append(variable.name)
        line = lines.get(canonical(variable.name))
        report.problems.extend(UnitsProblem(variable.name, line, *found) for found in walker.problems)
    return report


def _time_unit(model: Model, declared: dict[str, Any]) -> pint.Quantity | None:
    """The model's time unit: the units of TIME STEP (else FINAL TIME, INITIAL TIME, SAVEPER)."""
    for name in ("time_step", "final_time", "initial_time", "saveper"):
        if declared.get(name) is not None:
            return declared[name]
    return None
