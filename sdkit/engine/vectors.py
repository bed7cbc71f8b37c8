"""VECTOR SORT ORDER, RANK, REORDER and SELECT, and INVERT MATRIX, element by element.

Mixed into :class:`sdkit.engine.translate.Translator`. The engine computes every element
separately, so these become sums of comparisons: the place of element ``j`` in the
ascending order is ``r_j = #{k: v_k < v_j} + #{k < j: v_k = v_j}`` (ties keep their order,
as a stable sort does; PySD's ``numpy.argsort`` agrees on ties for up to 16 elements),
one hidden node per element, shared by the elements of the equation. As in PySD
(``pysd.py_backend.functions``): SORT ORDER gives the 0-based index of the ``i``-th
smallest (largest when ``direction <= 0``), RANK the 1-based place of each element in that
order, REORDER ``v[s[i]]``. The cost grows with the square of the range, so ranges of more
than :data:`MAX_ELEMENTS` elements are refused.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from sdkit.engine.ir import Binary, Call, Const, Expr, If
from sdkit.errors import ModelFileError

MAX_ELEMENTS = 100
#: INVERT MATRIX builds O(n^3) nodes: at most this many rows
MAX_MATRIX = 8
#: VECTOR SELECT's numerical action -> (how the selected values combine, the neutral value)
_ACTIONS = {0: ("+", 0.0), 1: ("*", 1.0), 2: ("min", math.inf), 3: ("max", -math.inf), 4: ("+", 0.0),
            5: ("*", 1.0), 6: ("+", 0.0), 7: ("*", 1.0), 8: ("min", math.inf), 9: ("max", -math.inf), 10: ("+", 0.0)}


class VectorMixin:
    """Needs the translator's ``expr``, ``ir``, ``ranges``, ``position``, ``current`` and ``_hidden``."""

    def _vector_sort_order(self, fname: str, args: Any, ctx: dict[str, str]) -> Expr:
        places, i, n = self._places(fname, args, ctx)
        if not self._ascending(fname, args, ctx):
            i = n - 1 - i
        return _sum([If(Binary("==", place, Const(float(i))), Const(float(j)), Const(0.0))
                     for j, place in enumerate(places)])

    def _vector_rank(self, fname: str, args: Any, ctx: dict[str, str]) -> Expr:
        places, i, n = self._places(fname, args, ctx)
        if self._ascending(fname, args, ctx):
            return Binary("+", places[i], Const(1.0))
        return Binary("-", Const(float(n)), places[i])

    def _vector_reorder(self, fname: str, args: Any, ctx: dict[str, str]) -> Expr:
        values, _, _ = self._elements(fname, args, ctx)
        index = self.expr(args[1], ctx)
        return _sum([If(Binary("==", index, Const(float(j))), v, Const(0.0)) for j, v in enumerate(values)])

    def _vector_select(self, fname: str, args: Any, ctx: dict[str, str]) -> Expr:
        """VECTOR SELECT(selection[d!], expression[d!], missing, numerical action, error action) as PySD's.

        Over the elements whose selection is not 0: actions 0-4 combine ``selection *
        expression``, 5 ``expression ^ selection``, 6-10 ``expression``, by sum (0, 6),
        product (1, 5, 7), minimum (2, 8), maximum (3, 9) or mean (4, 10); with no element
        selected, ``missing``. Only error action 0 (no error) is supported.
        """
        if len(args) != 5:
            raise ModelFileError(f"VECTOR SELECT takes 5 arguments in variable '{self._model_name()}'")
        action = int(self._static_value(args[3], ctx, "VECTOR SELECT numerical action"))
        if action not in _ACTIONS:
            raise ModelFileError(f"VECTOR SELECT numerical action {action} in variable '{self._model_name()}' "
                                 "is not one of 0 to 10")
        if self._static_value(args[4], ctx, "VECTOR SELECT error action") != 0:
            raise self._unsupported("VECTOR SELECT with an error action other than 0")
        from sdkit.engine.calls import collect_bangs

        bangs: list[str] = []
        for arg in args[:2]:
            collect_bangs(arg, bangs)
        chosen, values = [], []
        for combo in itertools.product(*[self.ranges[b[:-1]] for b in bangs]):
            sub = {**ctx, **dict(zip(bangs, combo, strict=True))}
            selection, x = self.expr(args[0], sub), self.expr(args[1], sub)
            chosen.append(Binary("!=", selection, Const(0.0)))
            values.append(Binary("*", selection, x) if action < 5 else Binary("^", x, selection) if action == 5 else x)
        op, neutral = _ACTIONS[action]
        out = _reduce(op, [If(c, v, Const(neutral)) for c, v in zip(chosen, values, strict=True)])
        count = _sum([If(c, Const(1.0), Const(0.0)) for c in chosen])
        if action in (4, 10):
            out = Binary("/", out, count)
        return If(Binary("==", count, Const(0.0)), self.expr(args[2], ctx), out)

    def _invert_matrix(self, fname: str, args: Any, ctx: dict[str, str]) -> Expr:
        """INVERT MATRIX over the equation's last two subscripts (square, at most :data:`MAX_MATRIX`).

        Gauss-Jordan elimination with partial pivoting (the first row of largest magnitude),
        each step's entries hidden nodes shared by the elements of the equation. The
        result is the inverse to rounding; PySD's ``numpy.linalg.inv`` (LAPACK) rounds in
        another order. A singular matrix gives NaN or infinity (reported as such).
        """
        dims = self.ir.var_dims.get(self.current, ())
        if len(args) != 1 or len(dims) < 2 or len(self.ranges[dims[-1]]) != len(self.ranges[dims[-2]]):
            raise self._unsupported("INVERT MATRIX outside a square subscripted equation")
        rows, cols = self.ranges[dims[-2]], self.ranges[dims[-1]]
        n = len(rows)
        if n > MAX_MATRIX:
            raise self._unsupported(f"INVERT MATRIX of more than {MAX_MATRIX} x {MAX_MATRIX}")
        here = (ctx[dims[-2]], ctx[dims[-1]])
        entries = []
        for r in rows:
            for c in cols:
                moved = {key: (r if value == here[0] else c if value == here[1] else value)
                         for key, value in ctx.items()}
                entries.append(self.expr(args[0], moved))
        cache = self.__dict__.setdefault("_inverses", {})
        key = (self.current, tuple(entries))
        if key not in cache:
            cache[key] = self._gauss_jordan([entries[i * n:(i + 1) * n] for i in range(n)])
        return cache[key][self.position[dims[-2]][here[0]]][self.position[dims[-1]][here[1]]]

    def _gauss_jordan(self, a: list[list[Expr]]) -> list[list[Expr]]:
        n = len(a)
        rows = [list(a[i]) + [Const(float(i == j)) for j in range(n)] for i in range(n)]
        for c in range(n):
            size = [Call("abs", (rows[r][c],)) for r in range(c, n)]
            best = self._aux(_reduce("max", list(size)), "INVERT MATRIX pivot")
            first: list[Expr] = []  # 1 for the first row of largest magnitude
            earlier: Expr = Const(0.0)
            for s in size:
                hit = _indicator("==", s, best)
                first.append(self._aux(Binary("*", hit, Binary("-", Const(1.0), earlier)), "INVERT MATRIX pivot row"))
                earlier = Call("max", (earlier, hit))
            pivot = [self._aux(_sum([If(Binary("!=", first[r - c], Const(0.0)), rows[r][k], Const(0.0))
                                     for r in range(c, n)]), "INVERT MATRIX row") for k in range(2 * n)]
            for r in range(c + 1, n):  # the pivot row's old place takes row c
                rows[r] = [If(Binary("!=", first[r - c], Const(0.0)), rows[c][k], rows[r][k]) for k in range(2 * n)]
            scaled = [self._aux(Binary("/", pivot[k], pivot[c]), "INVERT MATRIX row") for k in range(2 * n)]
            for r in range(n):
                if r != c:
                    factor = self._aux(rows[r][c], "INVERT MATRIX factor")
                    rows[r] = [self._aux(Binary("-", rows[r][k], Binary("*", factor, scaled[k])), "INVERT MATRIX row")
                               for k in range(2 * n)]
            rows[c] = scaled
        return [row[n:] for row in rows]

    def _ascending(self, fname: str, args: Any, ctx: dict[str, str]) -> bool:
        from sdkit.names import vensim_name

        return self._static_value(args[1], ctx, f"{vensim_name(fname)} direction") > 0

    def _elements(self, fname: str, args: Any, ctx: dict[str, str]) -> tuple[list[Expr], int, int]:
        """The vector's values over the equation's last subscript, this element's place, the length."""
        from sdkit.names import vensim_name

        dims = self.ir.var_dims.get(self.current, ())
        if len(args) != 2 or not dims:
            raise self._unsupported(f"{vensim_name(fname)} outside a subscripted equation of 2 arguments")
        last = dims[-1]
        elements = self.ranges[last]
        if len(elements) > MAX_ELEMENTS:
            raise self._unsupported(f"{vensim_name(fname)} over more than {MAX_ELEMENTS} elements")
        here = ctx[last]
        values = []
        for element in elements:
            moved = {key: (element if value == here else value) for key, value in ctx.items()}
            values.append(self.expr(args[0], moved))
        return values, self.position[last][here], len(elements)

    def _places(self, fname: str, args: Any, ctx: dict[str, str]) -> tuple[list[Expr], int, int]:
        """Hidden nodes ``r_j`` (place in ascending order) of the vector, made once per equation and context."""
        cache = self.__dict__.setdefault("_vector_places", {})
        values, i, n = self._elements(fname, args, ctx)
        key = (self.current, tuple(values))
        if key not in cache:
            cache[key] = [
                self._aux(_sum([_indicator("<", values[k], v) for k in range(n)]
                               + [_indicator("==", values[k], v) for k in range(j)]), "VECTOR place")
                for j, v in enumerate(values)
            ]
        return cache[key], i, n


def _sum(terms: list[Expr]) -> Expr:
    """A balanced tree of ``+`` (0 for no terms)."""
    return _reduce("+", terms) if terms else Const(0.0)


def _reduce(op: str, terms: list[Expr]) -> Expr:
    """A balanced tree of ``+``, ``*``, ``min`` or ``max`` over the terms."""
    def join(a: Expr, b: Expr) -> Expr:
        return Call(op, (a, b)) if op in ("min", "max") else Binary(op, a, b)

    while len(terms) > 1:
        paired = [join(a, b) for a, b in zip(terms[0::2], terms[1::2], strict=False)]
        terms = paired + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def _indicator(op: str, a: Expr, b: Expr) -> Expr:
    """1.0 where ``a op b`` holds, else 0.0 (numpy adds booleans as OR, so never sum comparisons)."""
    return If(Binary(op, a, b), Const(1.0), Const(0.0))
