"""Stateful Vensim functions (INTEG, INITIAL, SMOOTH, DELAY, TREND) as hidden IR nodes.

Mixed into :class:`sdkit.engine.translate.Translator`; each ``_x_<Structure>``
method turns one PySD abstract structure into stocks and held values whose
arithmetic follows ``pysd.py_backend.statefuls``.
"""

from __future__ import annotations

import math
from typing import Any

from sdkit.engine import clock
from sdkit.engine.ir import (
    LEAVES,
    Binary,
    Call,
    Const,
    Control,
    Expr,
    If,
    Node,
    Ref,
    refs,
)
from sdkit.engine.static import NotStatic, static_eval, variables_read
from sdkit.errors import ModelFileError, UnsupportedFeature
from sdkit.names import vensim_name


class StatefulMixin:
    """Translation of stateful functions; needs ``self.ir``, ``self.expr``, ``self.current``."""

    # -------------------------------------------------------------- statefuls
    def _hidden(self, kind: str, what: str, **kw: Any) -> int:
        label = f"{what} in {self.current}"
        return self.ir.add(Node(kind, label, **kw))

    def _aux(self, e: Expr, what: str) -> Expr:
        """Hoist an expression into its own aux node (evaluated once per step)."""
        if isinstance(e, LEAVES):
            return e
        return Ref(self._hidden("aux", what, expr=e))

    def _x_IntegStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        idx = self._hidden("stock", "INTEG", nonneg=bool(ast.non_negative))
        self.ir.nodes[idx].flow = self.expr(ast.flow, ctx)
        self.ir.nodes[idx].init_expr = self.expr(ast.initial, ctx)
        return Ref(idx)

    def _x_InitialStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        return Ref(self._hidden("initial", "INITIAL", expr=self.expr(ast.initial, ctx)))

    def _static_value(self, ast: Any, ctx: dict[str, str], what: str) -> float:
        """Value of ``ast`` fixed at compile time (numbers, constants at their defaults).

        The constants it reads become part of the model's structure: they cannot be
        overridden per run (``ir.structural``).
        """
        e = self.expr(ast, ctx)
        self._translate_dependencies(e, set())
        used: set[int] = set()
        try:
            value = static_eval(e, self.ir, self.ir.control, used)
        except NotStatic as exc:
            raise UnsupportedFeature(
                f"{what} in variable '{self._model_name()}' is not a constant ({exc} changes "
                "during the run); use engine='pysd'"
            ) from exc
        for py in variables_read(self.ir, used):
            self.ir.structural[py] = f"{what} in '{self._model_name()}'"
        return value

    def _translate_dependencies(self, e: Expr, seen: set[int]) -> None:
        """Translate the equations ``e`` reads before they are evaluated statically."""
        for idx in refs(e) - seen:
            seen.add(idx)
            if idx in self.pending:
                self._translate_pending(idx)
            node = self.ir.nodes[idx]
            if node.kind == "aux" and node.expr is not None:
                self._translate_dependencies(node.expr, seen)

    def _static_order(self, ast: Any, ctx: dict[str, str], what: str) -> int:
        order = int(self._static_value(ast, ctx, f"{what} order"))
        if order < 1:
            raise ModelFileError(f"{what} order in variable '{self._model_name()}' is < 1")
        return order

    def _x_SmoothStructure(self, ast: Any, ctx: dict[str, str], order: int | None = None) -> Expr:
        order = int(ast.order) if order is None else order
        inp = self._aux(self.expr(ast.input, ctx), "SMOOTH input")
        stime = self._aux(self.expr(ast.smooth_time, ctx), "SMOOTH time")
        init = Ref(self._hidden("initial", "SMOOTH initial", expr=self.expr(ast.initial, ctx)))
        stages = [self._hidden("stock", f"SMOOTH stage {i + 1}") for i in range(order)]
        target = inp
        for s in stages:
            node = self.ir.nodes[s]
            node.init_expr = init
            node.flow = Binary("/", Binary("*", Binary("-", target, Ref(s)), Const(float(order))), stime)
            target = Ref(s)
        return Ref(stages[-1])

    def _x_SmoothNStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        order = self._static_order(ast.order, ctx, "SMOOTH N")
        return self._x_SmoothStructure(ast, ctx, order=order)

    def _x_DelayStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        order = int(ast.order)
        inp = self._aux(self.expr(ast.input, ctx), "DELAY input")
        dtime = self._aux(self.expr(ast.delay_time, ctx), "DELAY time")
        init = Ref(self._hidden(
            "initial", "DELAY initial", expr=Binary("*", self.expr(ast.initial, ctx), dtime)
        ))
        stages = [self._hidden("stock", f"DELAY stage {i + 1}") for i in range(order)]
        inflow = inp
        for s in stages:
            outflow = Binary("/", Ref(s), dtime)
            node = self.ir.nodes[s]
            node.init_expr = init
            node.flow = Binary("*", Binary("-", inflow, outflow), Const(float(order)))
            inflow = outflow
        return Binary("/", Ref(stages[-1]), dtime)

    def _x_DelayNStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        """DELAY N as PySD's DelayN: each stage uses the delay time of its own past step."""
        order = self._static_order(ast.order, ctx, "DELAY N")
        inp = self._aux(self.expr(ast.input, ctx), "DELAY N input")
        dtime = self._aux(self.expr(ast.delay_time, ctx), "DELAY N time")
        dtime0 = Ref(self._hidden("initial", "DELAY N initial time", expr=dtime))
        init = Ref(self._hidden(
            "initial", "DELAY N initial", expr=Binary("*", self.expr(ast.initial, ctx), dtime0)
        ))
        # registers R_j hold the delay times used by stage j at the previous step
        regs = [
            self._hidden("stock", f"DELAY N time register {j + 1}", init_expr=dtime0, direct=True)
            for j in range(order)
        ]
        times = [dtime] + [Ref(r) for r in regs[:-1]]  # stage delay times this step
        for j, r in enumerate(regs):
            self.ir.nodes[r].flow = times[j]
        stages = [self._hidden("stock", f"DELAY N stage {i + 1}") for i in range(order)]
        inflow = inp
        for s, tj in zip(stages, times, strict=True):
            outflow = Binary("/", Ref(s), tj)
            node = self.ir.nodes[s]
            node.init_expr = init
            node.flow = Binary("*", Binary("-", inflow, outflow), Const(float(order)))
            inflow = outflow
        return Binary("/", Ref(stages[-1]), Ref(regs[0]))

    def _x_DelayFixedStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        return self._pipeline(ast.input, ast.delay_time, ast.initial, ctx, "DELAY FIXED")

    def _delay_material(self, fname: str, args: Any, ctx: dict[str, str]) -> Expr:
        """DELAY MATERIAL(input, delay time, initial value, missing value) with a constant delay time.

        Vensim defines it as DELAY FIXED whose delay time may vary; with a delay time fixed
        when the model is compiled it is DELAY FIXED, and the missing value (used only
        when the delay time grows) is never read. A varying delay time is refused.
        """
        if len(args) != 4:
            raise ModelFileError(f"{vensim_name(fname)} takes 4 arguments in variable '{self._model_name()}'")
        out = self._pipeline(args[0], args[1], args[2], ctx, "DELAY MATERIAL")
        if clock.reads_time(self.expr(args[1], ctx), self.ir):
            raise UnsupportedFeature(
                f"DELAY MATERIAL delay time in variable '{self._model_name()}' changes with Time "
                "(only a constant delay time is supported); use engine='pysd'"
            )
        return out

    def _pipeline(self, inp_ast: Any, delay_ast: Any, init_ast: Any, ctx: dict[str, str], what: str) -> Expr:
        """DELAY FIXED as PySD's DelayFixed: the input of round(delay time / TIME STEP) steps before.

        The delay time is read once, at compile time, like Vensim reads it once at the
        initial time; the pipeline length then fixes the TIME STEP of the kernel.
        """
        delay = self._static_value(delay_ast, ctx, f"{what} delay time")
        dt = float(self.ir.control["time_step"])
        length = round(max(delay / dt, 1.0) + 1e-6)
        self.ir.fixed_time_step = dt
        inp = self._aux(self.expr(inp_ast, ctx), f"{what} input")
        init = Ref(self._hidden("initial", f"{what} initial", expr=self.expr(init_ast, ctx)))
        # a delay line: its value is the input of `length` steps ago (the initial value before)
        line = self._hidden("stock", f"{what} line", init_expr=init, direct=True, lag=length)
        self.ir.nodes[line].flow = inp
        return Ref(line)

    def _sinteg(self, fname: str, args: Any, ctx: dict[str, str]) -> Expr:
        """SINTEG(rate, initial, min, max, quant, spec, thresh) with quant, spec and thresh :NA:.

        INTEG whose value, after each Euler step, is kept within [min, max] (a bound that
        is :NA: is not applied; the initial value is not clipped). Without bounds the
        arithmetic is INTEG's (``value + rate * TIME STEP``), to the bit.
        """
        if len(args) != 7:
            raise ModelFileError(f"{vensim_name(fname)} takes 7 arguments in variable '{self._model_name()}'")
        if not all(_is_na(a) for a in args[4:]):
            raise self._unsupported("SINTEG with quant, spec or thresh (only min and max)")
        idx = self._hidden("stock", "SINTEG", init_expr=self.expr(args[1], ctx), direct=True)
        value: Expr = Binary("+", Ref(idx), Binary("*", self.expr(args[0], ctx), Control("dt")))
        if not _is_na(args[2]):
            value = Call("max", (value, self.expr(args[2], ctx)))
        if not _is_na(args[3]):
            value = Call("min", (value, self.expr(args[3], ctx)))
        self.ir.nodes[idx].flow = value
        return Ref(idx)

    def _x_SampleIfTrueStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        """SAMPLE IF TRUE: the input while the condition holds, else the value last sampled."""
        cond = self._aux(self.expr(ast.condition, ctx), "SAMPLE IF TRUE condition")
        inp = self._aux(self.expr(ast.input, ctx), "SAMPLE IF TRUE input")
        held = self._hidden(
            "stock", "SAMPLE IF TRUE state", init_expr=self.expr(ast.initial, ctx), direct=True
        )
        self.ir.nodes[held].flow = If(cond, inp, Ref(held))
        return If(cond, inp, Ref(held))

    def _x_ForecastStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        """FORECAST as PySD's Forecast: the input extrapolated by its trend over the horizon."""
        inp, avg, s = self._averaged_input(ast, ctx, "FORECAST", initial_trend_per_time=False)
        change = Call("zidz", (Binary("-", inp, Ref(s)), Binary("*", avg, Ref(s))))
        horizon = self.expr(ast.horizon, ctx)
        return Binary("*", inp, Binary("+", Const(1.0), Binary("*", change, horizon)))

    def _averaged_input(self, ast: Any, ctx: dict[str, str], function: str,
                        initial_trend_per_time: bool) -> tuple[Expr, Expr, int]:
        """The input, the average time and the node of the input's average (a first-order
        smooth) that TREND and FORECAST extrapolate from; the average starts at
        input / (1 + initial trend), the trend times the average time for TREND."""
        inp = self._aux(self.expr(ast.input, ctx), f"{function} input")
        avg = self._aux(self.expr(ast.average_time, ctx), f"{function} average time")
        growth = self.expr(ast.initial_trend, ctx)
        if initial_trend_per_time:
            growth = Binary("*", growth, avg)
        s = self._hidden("stock", f"{function} state", init_expr=Binary("/", inp, Binary("+", Const(1.0), growth)))
        self.ir.nodes[s].flow = Binary("/", Binary("-", inp, Ref(s)), avg)
        return inp, avg, s

    def _x_GameStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        """GAME(x) is x outside an interactive game (as in PySD)."""
        return self.expr(ast.expression, ctx)

    def _x_TrendStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        """TREND as PySD's Trend: the input's fractional change per time against its average."""
        inp, avg, s = self._averaged_input(ast, ctx, "TREND", initial_trend_per_time=True)
        return Call("zidz", (Binary("-", inp, Ref(s)), Binary("*", avg, Call("abs", (Ref(s),)))))


def _is_na(ast: Any) -> bool:
    """Vensim's :NA: (PySD's parser reads it as NaN)."""
    return isinstance(ast, float) and math.isnan(ast)
