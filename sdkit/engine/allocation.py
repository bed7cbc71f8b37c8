"""ALLOCATE BY PRIORITY and ALLOCATE AVAILABLE, element by element.

ALLOCATE AVAILABLE's supply curves and its bisection are in :mod:`sdkit.engine.available`.

Mixed into :class:`sdkit.engine.translate.Translator`. Vensim shares a supply among
requesters ranked by priority with a rectangular profile of width ``width``: at a
priority level ``p``, requester ``i`` receives ``r_i * clip((pr_i - p) / width, 0, 1)``,
and ``p`` is the level at which the allocations add up to the supply (all requests when
the supply covers them, nothing when there is none). The total is piecewise linear in
``p``, with corners at every ``pr_i`` and ``pr_i - width``, so ``p`` is found exactly:
the corner of largest ``p`` whose total still covers the supply, the next corner above
it, and the straight line between them. This is PySD's algorithm
(``pysd.py_backend.allocation._allocate_by_priority_1d``, which hands out the supply
from the highest priority down), written as arithmetic on every element, so both
backends give the same bits; the level and the totals are hidden nodes shared by the
elements of the equation. The cost grows with the square of the range, so ranges of
more than :data:`sdkit.engine.vectors.MAX_ELEMENTS` elements are refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sdkit.engine.ir import Binary, Call, Const, Expr, If
from sdkit.engine.static import NotStatic, static_eval
from sdkit.engine.vectors import MAX_ELEMENTS, _reduce, _sum
from sdkit.errors import UnsupportedFeature

#: ALLOCATE AVAILABLE's profile types -> (name, half-width of its interval in units of pwidth), PySD's intervals
PROFILES = {1: ("rectangular", 0.5), 2: ("triangular", 0.5), 3: ("normal", 8.2923611),
            4: ("exponential", 36.7368005696)}
#: profile types PySD does not implement either
UNSUPPORTED = {0: "fixed quantity", 5: "constant elasticity"}


class AllocationMixin:
    """Needs the translator's ``expr``, ``ir``, ``ranges``, ``position``, ``current`` and ``_aux``."""

    def _x_AllocateByPriorityStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        last, elements, here = self._allocation_range("ALLOCATE BY PRIORITY", ctx)
        requests, priorities = [], []
        for element in elements:
            moved = {key: (element if value == here else value) for key, value in ctx.items()}
            requests.append(self._aux(self.expr(ast.request, moved), "ALLOCATE BY PRIORITY request"))
            priorities.append(self._aux(self.expr(ast.priority, moved), "ALLOCATE BY PRIORITY priority"))
        width = self._aux(self.expr(ast.width, ctx), "ALLOCATE BY PRIORITY width")
        supply = self._aux(self.expr(ast.supply, ctx), "ALLOCATE BY PRIORITY supply")
        cache = self.__dict__.setdefault("_allocation_levels", {})
        key = (self.current, tuple(requests), tuple(priorities), width, supply)
        if key not in cache:
            cache[key] = self._priority_level(requests, priorities, width, supply)
        level, total = cache[key]
        k = self.position[last][here]
        share = Binary("*", requests[k], _profile(priorities[k], level, width))
        return If(Binary(">=", supply, total), requests[k],
                  If(Binary("<=", supply, Const(0.0)), Const(0.0), share))

    def _x_AllocateAvailableStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        """ALLOCATE AVAILABLE (:mod:`sdkit.engine.available`): each requester's curve from ``pp[i, *]``."""
        last, elements, here = self._allocation_range("ALLOCATE AVAILABLE", ctx)
        requests, kinds, priorities, widths = [], [], [], []
        for element in elements:
            moved = {key: (element if value == here else value) for key, value in ctx.items()}
            requests.append(self._aux(self.expr(ast.request, moved), "ALLOCATE AVAILABLE request"))
            kind, priority, width = self._profile(ast.pp, moved)
            kinds.append(self._aux(kind, "ALLOCATE AVAILABLE profile type"))
            priorities.append(self._aux(priority, "ALLOCATE AVAILABLE priority"))
            widths.append(self._aux(width, "ALLOCATE AVAILABLE width"))
        avail = self._aux(self.expr(ast.avail, ctx), "ALLOCATE AVAILABLE supply")
        cache = self.__dict__.setdefault("_allocation_levels", {})
        key = (self.current, tuple(requests), tuple(kinds), tuple(priorities), tuple(widths), avail)
        if key not in cache:
            cache[key] = self._available_level(requests, kinds, priorities, widths, avail)
        level, total = cache[key]
        k = self.position[last][here]
        allocated = Call("available_share", (kinds[k], requests[k], priorities[k], widths[k], level))
        return If(Binary(">=", avail, total), requests[k],
                  If(Binary("<=", avail, Const(0.0)), Const(0.0), allocated))

    def _allocation_range(self, what: str, ctx: dict[str, str]) -> tuple[str, list[str], str]:
        """The range an allocation shares among (the equation's last subscript), its elements and this one."""
        dims = self.ir.var_dims.get(self.current, ())
        if not dims:
            raise self._unsupported(f"{what} outside a subscripted equation")
        last = dims[-1]
        if len(self.ranges[last]) > MAX_ELEMENTS:
            raise self._unsupported(f"{what} over more than {MAX_ELEMENTS} elements")
        return last, self.ranges[last], ctx[last]

    def _profile(self, pp: Any, ctx: dict[str, str]) -> tuple[Expr, Expr, Expr]:
        """Profile type, priority and width of one requester: ``pp`` with its last subscript replaced by the
        first three elements of the profile range, as PySD does. A type known when the model is compiled
        must be one the engine has; another one (an override) makes the allocation NaN."""
        fields = self.ranges.get(self.ir.var_dims.get(self.clean.get(pp.reference, ""), ("",))[-1], [])
        if len(fields) < 3:
            raise UnsupportedFeature(
                f"ALLOCATE AVAILABLE in variable '{self._model_name()}' reads a priority profile of fewer than 3 "
                "elements, which neither the engine nor PySD supports; give it ptype, ppriority, pwidth and pextra")

        def field(name: str) -> Any:
            subs = list(pp.subscripts.subscripts)
            return dataclasses.replace(pp, subscripts=dataclasses.replace(pp.subscripts, subscripts=[*subs[:-1], name]))

        kind = self.expr(field(fields[0]), ctx)
        self._translate_dependencies(kind, set())
        try:
            value = static_eval(kind, self.ir, self.ir.control, set())
        except NotStatic:
            value = 1.0  # read during the run
        if value not in PROFILES:
            kind = f"({UNSUPPORTED[value]})" if value in UNSUPPORTED else "(not a profile type)"
            raise UnsupportedFeature(
                f"ALLOCATE AVAILABLE priority profile type {value:g} {kind} in variable '{self._model_name()}' "
                "is supported neither by the engine nor by PySD; use types 1 to 4 (rectangular, triangular, "
                "normal, exponential)")
        return kind, self.expr(field(fields[1]), ctx), self.expr(field(fields[2]), ctx)

    def _available_level(self, requests: list[Expr], kinds: list[Expr], priorities: list[Expr], widths: list[Expr],
                         avail: Expr) -> tuple[Expr, Expr]:
        """The level at which the curves hand out ``avail`` (:func:`sdkit.engine.available.available_level`)."""
        curves = [x for curve in zip(kinds, requests, priorities, widths, strict=True) for x in curve]
        level = self._aux(Call("available_level", (avail, *curves)), "ALLOCATE AVAILABLE level")
        return level, self._aux(_sum(list(requests)), "ALLOCATE AVAILABLE total request")

    def _priority_level(self, requests: list[Expr], priorities: list[Expr], width: Expr,
                        supply: Expr) -> tuple[Expr, Expr]:
        """The priority level at which the allocations add up to ``supply``, and the total request."""
        def allocated(level: Expr) -> Expr:
            return _sum([Binary("*", r, _profile(pr, level, width)) for r, pr in zip(requests, priorities, strict=True)])

        corners = [*priorities, *[Binary("-", pr, width) for pr in priorities]]
        totals = [self._aux(allocated(corner), "ALLOCATE BY PRIORITY total") for corner in corners]
        lowest = self._aux(_reduce("min", list(corners)), "ALLOCATE BY PRIORITY lowest corner")
        highest = self._aux(_reduce("max", list(corners)), "ALLOCATE BY PRIORITY highest corner")
        below = self._aux(_reduce("max", [If(Binary(">=", t, supply), c, lowest)
                                          for c, t in zip(corners, totals, strict=True)]), "ALLOCATE BY PRIORITY level")
        above = self._aux(_reduce("min", [If(Binary("<", t, supply), c, highest)
                                          for c, t in zip(corners, totals, strict=True)]), "ALLOCATE BY PRIORITY level")
        at_below = self._aux(allocated(below), "ALLOCATE BY PRIORITY total")
        at_above = self._aux(allocated(above), "ALLOCATE BY PRIORITY total")
        drop = Binary("-", at_below, at_above)
        step = If(Binary(">", drop, Const(0.0)),
                  Binary("/", Binary("*", Binary("-", at_below, supply), Binary("-", above, below)), drop), Const(0.0))
        level = self._aux(Binary("+", below, step), "ALLOCATE BY PRIORITY level")
        return level, self._aux(_sum(list(requests)), "ALLOCATE BY PRIORITY total request")


def _profile(priority: Expr, level: Expr, width: Expr) -> Expr:
    """``clip((priority - level) / width, 0, 1)``: the share of its request a requester receives."""
    return Call("min", (Call("max", (Binary("/", Binary("-", priority, level), width), Const(0.0))), Const(1.0)))
