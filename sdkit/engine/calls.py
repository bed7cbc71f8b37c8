"""Translation of operators and function calls (mixed into :class:`sdkit.engine.translate.Translator`).

Operators follow Vensim's precedence (:mod:`sdkit.precedence`); calls
become IR functions, lookups, IF THEN ELSE and the expansion of SUM, PROD,
VMIN and VMAX over ``!`` ranges into balanced trees.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Container
from functools import partial
from typing import Any

import numpy as np

from sdkit.beyond_pysd import RANDOM_FUNCTIONS
from sdkit.engine import ir as IR
from sdkit.engine.ir import Expr, Node
from sdkit.errors import ModelFileError, UnsupportedFeature
from sdkit.names import vensim_name
from sdkit.precedence import split_logic
from sdkit.structure import clean_name

#: Vensim functions the IR calls by the same name: name -> number of arguments.
SIMPLE_FUNCTIONS = {
    **dict.fromkeys(("abs", "exp", "sqrt", "ln", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
                     "sinh", "cosh", "tanh", "integer"), 1),
    **dict.fromkeys(("log", "min", "max", "power", "modulo", "quantum", "zidz"), 2),
    "xidz": 3,
}
AGGREGATES = {"sum", "prod", "vmin", "vmax"}
#: functions translated by a method of their own: name -> method(fname, args, ctx)
CALL_HANDLERS = {"delay_material": "_delay_material", "sinteg": "_sinteg", "vector_sort_order": "_vector_sort_order",
                 "vector_rank": "_vector_rank", "vector_reorder": "_vector_reorder",
                 "vector_select": "_vector_select", "invert_matrix": "_invert_matrix"} | dict.fromkeys(RANDOM_FUNCTIONS, "_random")
ARITH_OPS = {"+", "-", "*", "/", "^"}
#: unary operators (PySD's names) -> the expression they make of their operand
ARITH_UNARY: dict[str, Callable[[Expr], Expr]] = {"negative": partial(IR.Unary, "-"), "positive": lambda a: a,
                                                   "+": lambda a: a}
LOGIC_UNARY: dict[str, Callable[[Expr], Expr]] = {":NOT:": partial(IR.Unary, "not")}
LOGIC_OPS = {
    "=": "==",
    "<>": "!=",
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
    ":AND:": "and",
    ":OR:": "or",
}


class ExpressionMixin:
    """Operators and calls; needs ``self.expr``, ``self.ranges``, ``self.ir`` and the
    translator's lookup tables."""

    def _operands(self, ast: Any, ctx: dict[str, str], unary: dict[str, Callable[[Expr], Expr]],
                  binary: Container[str]) -> tuple[list[str], list[Expr]]:
        """An operator structure's operators (each in ``binary``) and translated operands; a
        lone operand comes back with its operator (one of ``unary``) applied, and no operators."""
        ops = list(ast.operators)
        args = [self.expr(a, ctx) for a in ast.arguments]
        if len(args) == 1:
            if ops[0] not in unary:
                raise self._unsupported(f"operator {ops[0]}")
            return [], [unary[ops[0]](args[0])]
        if any(op not in binary for op in ops):
            raise self._unsupported(f"operators {ops}")
        return ops, args

    def _x_ArithmeticStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        ops, args = self._operands(ast, ctx, ARITH_UNARY, ARITH_OPS)
        if "^" not in ops:
            return _left_to_right(ops, args)
        if any(op != "^" for op in ops):
            raise self._unsupported(f"operators {ops} in one expression")
        # Vensim (like Python) raises right to left: a^b^c = a^(b^c)
        out = args[-1]
        for a in reversed(args[:-1]):
            out = IR.Binary("^", a, out)
        return out

    def _x_LogicStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        ops, args = self._operands(ast, ctx, LOGIC_UNARY, LOGIC_OPS)
        if ops and all(op in (":AND:", ":OR:") for op in ops):
            # :AND: binds tighter than :OR: (Vensim's precedence)
            terms = [_left_to_right(["and"] * (len(conj) - 1), conj) for conj in split_logic(ops, args)]
            return _left_to_right(["or"] * (len(terms) - 1), terms)
        return _left_to_right([LOGIC_OPS[op] for op in ops], args)

    def _x_CallStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        fname = ast.function.reference
        args = ast.arguments
        py = self.clean.get(fname)
        if py is not None and self.kind.get(py) == "lookup":
            elems = self._elements_for(py, ast.function.subscripts, ctx)
            tid = self.lookup_of.get((py, elems))
            if tid is None:
                raise ModelFileError(f"lookup '{self.elements[py].name}' has no element {elems}")
            if len(args) != 1:
                raise self._unsupported(f"{fname} with {len(args)} arguments")
            return IR.LookupCall(tid, self.expr(args[0], ctx))
        if fname in AGGREGATES:
            return self._aggregate(fname, args[0], ctx)
        if fname == "elmcount":
            return IR.Const(float(len(self._range_named(args[0]))))
        if fname in SIMPLE_FUNCTIONS:
            nargs = SIMPLE_FUNCTIONS[fname]
            if len(args) != nargs:
                raise ModelFileError(
                    f"{vensim_name(fname)} takes {nargs} arguments in variable "
                    f"'{self._model_name()}'"
                )
            return IR.Call(fname, tuple(self.expr(a, ctx) for a in args))
        handler = CALL_HANDLERS.get(fname)
        if handler is not None:
            return getattr(self, handler)(fname, args, ctx)
        a = [self.expr(x, ctx) for x in args]
        t, dt = IR.Time(), IR.Control("dt")
        if fname == "if_then_else":
            return IR.If(a[0], a[1], a[2])
        if fname == "step":
            return IR.Call("step", (a[0], a[1], t, dt))
        if fname == "ramp":
            finish = a[2] if len(a) > 2 else IR.Const(float("inf"))
            return IR.Call("ramp", (a[0], a[1], finish, t))
        if fname == "pulse" and len(a) == 2:
            return IR.Call("pulse", (a[0], a[1], t, dt))
        if fname == "pulse_train":
            return IR.Call("pulse_train", (a[0], a[1], a[2], a[3], t, dt))
        if fname == "get_time_value" and a[0] == IR.Const(0.0) and a[2] == IR.Const(0.0):
            return IR.Binary("+", t, a[1])  # model time plus offset; machine time is not reproducible
        if fname == "pi" and not a:
            return IR.Const(float(np.pi))
        if fname == "active_initial":  # nested in an expression: a hidden aux of its own
            return IR.Ref(self._hidden("aux", "ACTIVE INITIAL", expr=a[0], init_expr=a[1]))
        raise self._unsupported(vensim_name(fname))

    def _random(self, fname: str, args: Any, ctx: dict[str, str]) -> Expr:
        """A RANDOM draw: the distribution's arguments, then what names the draw (:mod:`sdkit.engine.vrandom`).

        The stream argument is not translated (PySD ignores it too): every call draws
        from its own stream, named by the call's number.
        """
        name, nargs = RANDOM_FUNCTIONS[fname]
        if len(args) not in (nargs, nargs + 1):
            raise ModelFileError(
                f"{vensim_name(fname)} takes {nargs + 1} arguments in variable '{self._model_name()}'"
            )
        values = [self.expr(a, ctx) for a in args[:nargs]] if nargs else [IR.Const(0.0), IR.Const(1.0)]
        ir = self.ir
        if ir.random_key is None:
            ir.random_key = (ir.add(Node("param", "RANDOM seed", default=0.0)),
                             ir.add(Node("param", "RANDOM sample number", default=0.0)))
        ir.random_calls += 1
        seed, sample = ir.random_key
        key = (IR.Ref(seed), IR.Ref(sample), IR.Const(float(ir.random_calls)), IR.Time(), IR.Control("t0"), IR.Control("dt"))
        return IR.Call(name, (*values, *key))

    def _range_named(self, ast: Any) -> list[str]:
        """Elements of the subscript range an argument names (ELMCOUNT(range))."""
        wanted = getattr(ast, "reference", None)
        for name, elems in self.ranges.items():
            if clean_name(name) == clean_name(str(wanted)):
                return elems
        raise ModelFileError(
            f"ELMCOUNT in variable '{self._model_name()}' needs a subscript range name"
        )

    def _aggregate(self, fname: str, arg: Any, ctx: dict[str, str]) -> Expr:
        bangs: list[str] = []
        collect_bangs(arg, bangs)
        if not bangs:
            return self.expr(arg, ctx)
        for b in bangs:
            if b[:-1] not in self.ranges:
                raise UnsupportedFeature(f"unknown subscript range '{b}' in '{self._model_name()}'")
        terms = []
        for combo in itertools.product(*[self.ranges[b[:-1]] for b in bangs]):
            sub_ctx = dict(ctx)
            sub_ctx.update(zip(bangs, combo, strict=True))
            terms.append(self.expr(arg, sub_ctx))
        # combine pairwise (a balanced tree keeps expressions shallow for long ranges)
        while len(terms) > 1:
            paired = []
            for a, b in zip(terms[0::2], terms[1::2], strict=False):
                if fname == "sum":
                    paired.append(IR.Binary("+", a, b))
                elif fname == "prod":
                    paired.append(IR.Binary("*", a, b))
                elif fname == "vmin":
                    paired.append(IR.Call("min", (a, b)))
                else:
                    paired.append(IR.Call("max", (a, b)))
            if len(terms) % 2:
                paired.append(terms[-1])
            terms = paired
        return terms[0]

    def _x_InlineLookupsStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        tid = self._add_lookup(ast.lookups, self._model_name())
        return IR.LookupCall(tid, self.expr(ast.argument, ctx))


def _left_to_right(ops: list[str], args: list[Expr]) -> Expr:
    """``args[0] ops[0] args[1] ops[1] ...`` grouped from the left."""
    out = args[0]
    for op, b in zip(ops, args[1:], strict=True):
        out = IR.Binary(op, out, b)
    return out


def collect_bangs(ast: Any, out: list[str]) -> None:
    kind = type(ast).__name__
    if kind == "ReferenceStructure":
        if ast.subscripts is not None:
            for s in ast.subscripts.subscripts:
                if s.endswith("!") and s not in out:
                    out.append(s)
        return
    if kind == "SubscriptsReferenceStructure":
        return
    if hasattr(ast, "__dataclass_fields__"):
        for f in ast.__dataclass_fields__:
            v = getattr(ast, f)
            if isinstance(v, (tuple, list)):
                for x in v:
                    collect_bangs(x, out)
            else:
                collect_bangs(v, out)
