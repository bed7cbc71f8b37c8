"""VECTOR SORT ORDER, VECTOR RANK and VECTOR REORDER over the last subscript of an equation.

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

from typing import Any

from sdkit.engine.ir import Binary, Const, Expr, If

MAX_ELEMENTS = 100


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

    def _ascending(self, fname: str, args: Any, ctx: dict[str, str]) -> bool:
        from sdkit.engine.calls import vensim_name

        return self._static_value(args[1], ctx, f"{vensim_name(fname)} direction") > 0

    def _elements(self, fname: str, args: Any, ctx: dict[str, str]) -> tuple[list[Expr], int, int]:
        """The vector's values over the equation's last subscript, this element's place, the length."""
        from sdkit.engine.calls import vensim_name

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
    if not terms:
        return Const(0.0)
    while len(terms) > 1:
        paired = [Binary("+", a, b) for a, b in zip(terms[0::2], terms[1::2], strict=False)]
        terms = paired + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def _indicator(op: str, a: Expr, b: Expr) -> Expr:
    """1.0 where ``a op b`` holds, else 0.0 (numpy adds booleans as OR, so never sum comparisons)."""
    return If(Binary(op, a, b), Const(1.0), Const(0.0))
