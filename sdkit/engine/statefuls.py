"""Stateful Vensim functions (INTEG, INITIAL, SMOOTH, DELAY, TREND) as hidden IR nodes.

Mixed into :class:`sdkit.engine.translate.Translator`; each ``_x_<Structure>``
method turns one PySD abstract structure into stocks and held values whose
arithmetic follows ``pysd.py_backend.statefuls``.
"""

from __future__ import annotations

from typing import Any

from sdkit.engine.ir import Expr, Node
from sdkit.engine.static import NotStatic, static_eval
from sdkit.errors import ModelFileError, UnsupportedFeature


class StatefulMixin:
    """Translation of stateful functions; needs ``self.ir``, ``self.expr``, ``self.current``."""

    # -------------------------------------------------------------- statefuls
    def _hidden(self, kind: str, what: str, **kw: Any) -> int:
        label = f"{what} in {self.current}"
        return self.ir.add(Node(kind, label, **kw))

    def _aux(self, e: Expr, what: str) -> Expr:
        """Hoist an expression into its own aux node (evaluated once per step)."""
        if e[0] in ("v", "c", "time", "t0", "tf", "dt", "sp"):
            return e
        return ("v", self._hidden("aux", what, expr=e))

    def _x_IntegStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        idx = self._hidden("stock", "INTEG", nonneg=bool(ast.non_negative))
        self.ir.nodes[idx].flow = self.expr(ast.flow, ctx)
        self.ir.nodes[idx].init_expr = self.expr(ast.initial, ctx)
        return ("v", idx)

    def _x_InitialStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        return ("v", self._hidden("initial", "INITIAL", expr=self.expr(ast.initial, ctx)))

    def _static_order(self, ast: Any, ctx: dict[str, str], what: str) -> int:
        e = self.expr(ast, ctx)
        try:
            value = static_eval(e, self.ir, self.ir.control)
        except NotStatic as exc:
            raise UnsupportedFeature(
                f"{what} order in variable '{self._model_name()}' is not a constant; "
                "use engine='pysd'"
            ) from exc
        order = int(value)
        if order < 1:
            raise ModelFileError(f"{what} order in variable '{self._model_name()}' is < 1")
        return order

    def _x_SmoothStructure(self, ast: Any, ctx: dict[str, str], order: int | None = None) -> Expr:
        order = int(ast.order) if order is None else order
        inp = self._aux(self.expr(ast.input, ctx), "SMOOTH input")
        stime = self._aux(self.expr(ast.smooth_time, ctx), "SMOOTH time")
        init = ("v", self._hidden("initial", "SMOOTH initial", expr=self.expr(ast.initial, ctx)))
        stages = [self._hidden("stock", f"SMOOTH stage {i + 1}") for i in range(order)]
        target = inp
        for s in stages:
            node = self.ir.nodes[s]
            node.init_expr = init
            node.flow = (
                "bin",
                "/",
                ("bin", "*", ("bin", "-", target, ("v", s)), ("c", float(order))),
                stime,
            )
            target = ("v", s)
        return ("v", stages[-1])

    def _x_SmoothNStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        order = self._static_order(ast.order, ctx, "SMOOTH N")
        return self._x_SmoothStructure(ast, ctx, order=order)

    def _x_DelayStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        order = int(ast.order)
        inp = self._aux(self.expr(ast.input, ctx), "DELAY input")
        dtime = self._aux(self.expr(ast.delay_time, ctx), "DELAY time")
        init = (
            "v",
            self._hidden(
                "initial", "DELAY initial", expr=("bin", "*", self.expr(ast.initial, ctx), dtime)
            ),
        )
        stages = [self._hidden("stock", f"DELAY stage {i + 1}") for i in range(order)]
        inflow = inp
        for s in stages:
            outflow = ("bin", "/", ("v", s), dtime)
            node = self.ir.nodes[s]
            node.init_expr = init
            node.flow = ("bin", "*", ("bin", "-", inflow, outflow), ("c", float(order)))
            inflow = outflow
        return ("bin", "/", ("v", stages[-1]), dtime)

    def _x_DelayNStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        """DELAY N as PySD's DelayN: each stage uses the delay time of its own past step."""
        order = self._static_order(ast.order, ctx, "DELAY N")
        inp = self._aux(self.expr(ast.input, ctx), "DELAY N input")
        dtime = self._aux(self.expr(ast.delay_time, ctx), "DELAY N time")
        dtime0 = ("v", self._hidden("initial", "DELAY N initial time", expr=dtime))
        init = (
            "v",
            self._hidden(
                "initial",
                "DELAY N initial",
                expr=("bin", "*", self.expr(ast.initial, ctx), dtime0),
            ),
        )
        # registers R_j hold the delay times used by stage j at the previous step
        regs = [
            self._hidden("stock", f"DELAY N time register {j + 1}", init_expr=dtime0, direct=True)
            for j in range(order)
        ]
        times = [dtime] + [("v", r) for r in regs[:-1]]  # stage delay times this step
        for j, r in enumerate(regs):
            self.ir.nodes[r].flow = times[j]
        stages = [self._hidden("stock", f"DELAY N stage {i + 1}") for i in range(order)]
        inflow = inp
        for s, tj in zip(stages, times, strict=True):
            outflow = ("bin", "/", ("v", s), tj)
            node = self.ir.nodes[s]
            node.init_expr = init
            node.flow = ("bin", "*", ("bin", "-", inflow, outflow), ("c", float(order)))
            inflow = outflow
        return ("bin", "/", ("v", stages[-1]), ("v", regs[0]))

    def _x_TrendStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        inp = self._aux(self.expr(ast.input, ctx), "TREND input")
        avg = self._aux(self.expr(ast.average_time, ctx), "TREND average time")
        init_trend = self.expr(ast.initial_trend, ctx)
        s = self._hidden(
            "stock",
            "TREND state",
            init_expr=(
                "bin",
                "/",
                inp,
                ("bin", "+", ("c", 1.0), ("bin", "*", init_trend, avg)),
            ),
        )
        self.ir.nodes[s].flow = ("bin", "/", ("bin", "-", inp, ("v", s)), avg)
        return (
            "fn",
            "zidz",
            (("bin", "-", inp, ("v", s)), ("bin", "*", avg, ("fn", "abs", (("v", s),)))),
        )
