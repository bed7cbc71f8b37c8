"""Vensim's operator precedence on top of PySD's equation parser.

Vensim documents its operators in decreasing precedence as: unary ``:NOT:``,
``-``, ``+``; then ``^``; ``*`` ``/``; ``+`` ``-``; the relations
``< > <= >= <> =``; ``:AND:``; ``:OR:``. Vensim itself (and Stella) evaluate
``-2^2`` as ``-(2^2) = -4``: a leading minus negates the power, as in
ordinary algebra, and ``30^ - 30^-c`` is ``30^(-(30^(-c)))``.

PySD's grammar gets the shape right but its visitor folds a minus sign into a
number literal, so the AST of ``-2^2`` and of ``(-2)^2`` is the same
``(-2)^2`` (PySD's generated Python happens to read ``-2**2`` as ``-(2**2)``,
so PySD prints -4 for both, which is wrong for the second). The engine reads
the AST, not PySD's Python text, so :func:`vensim_parsing` makes the visitor
keep a minus in front of a number as a negation until its power is built;
a negated number that is not raised to a power is folded back into a
literal, so ``x = -5`` is still a constant. It also reads ``:and:``/``:or:``
in any case, as Vensim does (PySD's parser fails on lower case).

PySD applies ``:NOT:`` to a whole comparison (``:NOT: a > b`` as
``:NOT: (a > b)``); Vensim's table makes ``:NOT:`` a unary operator above every
binary one, so the visitor reads ``(:NOT: a) > b``, as Simlin does (the two
agree whenever ``a`` is a 0/1 switch compared with 0 or 1).

PySD also builds a chain ``a :AND: b :OR: c`` right to left
(``a and (b or c)``); :func:`split_logic` regroups such chains so that
``:AND:`` binds tighter than ``:OR:`` as Vensim documents.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()


COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")


def _visitor_class():
    from pysd.translators.structures.abstract_expressions import (
        ArithmeticStructure,
        LogicStructure,
    )
    from pysd.translators.vensim.vensim_element import EquationVisitor

    class VensimEquationVisitor(EquationVisitor):
        """PySD's equation visitor with Vensim's precedence of unary ``-`` and ``:NOT:``."""

        def visit_parens(self, n, vc):
            self.parenthesised = getattr(self, "parenthesised", set()) | {vc[2]}
            return vc[2]

        def visit_logic_expr(self, n, vc):
            # ":NOT: a > b" is "(:NOT: a) > b": :NOT: binds tighter than a relation
            node_id = vc[2]
            element = self.elements.get(node_id)
            if (
                vc[0].lower() == ":not:"
                and isinstance(element, LogicStructure)
                and len(element.operators) == 1
                and element.operators[0] in COMPARISONS
                and node_id not in getattr(self, "parenthesised", set())
            ):
                left, right = element.arguments
                negated = LogicStructure([":NOT:"], (left,))
                return self.add_element(LogicStructure(element.operators, (negated, right)))
            return super().visit_logic_expr(n, vc)

        def visit_neg_expr(self, n, vc):
            node_id = vc[2]
            if vc[0] == "-":
                self.negatives.add(node_id)
            return node_id

        def visit_logic_oper(self, n, vc):
            # PySD splits chains with a case-sensitive pattern: ":and:" would not parse
            return n.text.upper()

        def visit_exp_expr(self, n, vc):
            node_id = super().visit_exp_expr(n, vc)
            element = self.elements.get(node_id)
            if (
                isinstance(element, ArithmeticStructure)
                and element.operators == ["negative"]
                and isinstance(element.arguments[0], (int, float))
                and not isinstance(element.arguments[0], bool)
            ):
                self.elements[node_id] = -element.arguments[0]
            return node_id

    return VensimEquationVisitor


@contextmanager
def vensim_parsing():
    """Parse Vensim equations with Vensim's precedence of unary minus inside this block."""
    from pysd.translators.vensim import vensim_element

    with _LOCK:
        original = vensim_element.EquationVisitor
        vensim_element.EquationVisitor = _visitor_class()
        try:
            yield
        finally:
            vensim_element.EquationVisitor = original


def split_logic(operators: list[str], arguments: list[Any]) -> list[list[Any]]:
    """Split a flat ``:AND:``/``:OR:`` chain into its ``:OR:`` terms, each a list of conjuncts.

    ``a :AND: b :OR: c`` gives ``[[a, b], [c]]``: ``(a and b) or c``.
    """
    terms: list[list[Any]] = [[arguments[0]]]
    for op, arg in zip(operators, arguments[1:], strict=True):
        if op.upper() == ":OR:":
            terms.append([arg])
        else:
            terms[-1].append(arg)
    return terms
