"""The numba kernel of a subscripted model: each subscripted equation one loop over its elements.

:func:`sdkit.engine.codegen.generate_numba` writes one line per node, all of them
inside one loop over the lanes, with every value in a local variable. For a
model with :class:`~sdkit.engine.runs.Run` s (equations over a whole subscript
range) this module writes instead, for each run::

    for e in range(351):
        for i in range(32):
            X[(351 + e) * 32 + i] = (X[(1773 + 18 * e) * 32 + i] / X[(1758 + 18 * e) * 32 + i])

and for the single nodes between runs one lane loop of lines ``X[52 * 32 + i] = ...``.
Every value lives in ``X`` (row ``node``, lane ``i``, as in the unrolled kernel),
so the kernel's size grows with the number of equations, not elements. The
arithmetic of each node is the same expression as in the unrolled kernel and
the numpy kernel, so the results are the same bits. The step functions, their
check for NaN and ``run``'s block and time loops are laid out as in the
unrolled kernel (see :func:`~sdkit.engine.codegen.generate_numba`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import NamedTuple

from sdkit.engine.codegen import (
    _NB_FN,
    _NB_FN_CALLED,
    ExpressionCode,
    _assign,
    check_order,
    delay_lines,
    static_checks,
    stock_update,
)
from sdkit.engine.ir import ModelIR
from sdkit.engine.nbmodule import (
    delay_rings,
    numba_module,
    numba_time_loop,
    ring_advance,
    ring_fill,
    rings_line,
)
from sdkit.engine.runs import Item, Run, find_runs, order_items, positional, shape
from sdkit.engine.schedule import Schedule

#: the looped kernel is written when at least this share of its lines would be elements of loops
MIN_LOOPED_SHARE = 0.5


class LoopItems(NamedTuple):
    """The looped kernel's three contexts, each an ordered list of runs and single nodes."""

    init: list[Item]
    step: list[Item]
    stocks: list[Item]


def loop_items(ir: ModelIR, sched: Schedule) -> LoopItems | None:
    """Runs and single nodes of initialisation, step and stocks; None when few nodes are in runs.

    A model whose runs hold fewer than :data:`MIN_LOOPED_SHARE` of its nodes gets the
    unrolled kernel, with values in local variables.
    """
    nodes = ir.nodes
    params = {node: j for j, node in enumerate(i for i, nd in enumerate(nodes) if nd.kind == "param")}
    init = _ordered(sched.init, lambda i: (0, ir.nodes[i].initial_value) if i not in params else (params[i], None), ir)
    step = _ordered(sched.step, lambda i: (0, nodes[i].expr), ir)
    position = {node: j for j, node in enumerate(sched.stocks)}

    def flow(i: int) -> tuple[int, object]:
        nd = nodes[i]
        return position[i], ((nd.direct, nd.lag), nd.nonneg, nd.flow)

    stocks = _ordered(sched.stocks, flow, ir, with_deps=False)
    items = init + step + stocks
    looped = sum(item.count for item in items if isinstance(item, Run))
    if not looped or looped < MIN_LOOPED_SHARE * (looped + sum(not isinstance(item, Run) for item in items)):
        return None
    return LoopItems(init, step, stocks)



def _ordered(order: Sequence[int], source: Callable[[int], tuple[int, object]], ir: ModelIR,
             with_deps: bool = True) -> list[Item]:
    """``order`` with its runs found (key: the node's label and expression shape) and ordered."""
    members: list[tuple[int, Hashable, list[int]]] = []
    reads: dict[int, list[int]] = {}
    for i in order:
        extra, expr = source(i)
        refs: list[int] = []
        variable = ir.nodes[i].label.partition("[")[0]
        if isinstance(expr, tuple):  # a stock: ((direct, lag), nonneg, flow)
            key: Hashable = (variable, expr[:2], shape(expr[2], refs))
        else:
            key = (variable, ir.nodes[i].kind, shape(expr, refs))
        members.append((i, key, [extra, *refs]))
        reads[i] = refs if with_deps else []
    runs = find_runs(members)
    return order_items(order, runs, reads.__getitem__)


def _row(base: int, stride: int) -> str:
    if stride == 0:
        return str(base)
    return f"({base} + e)" if stride == 1 else f"({base} + {stride} * e)"


def _next_row(at, position: int, n_nodes: int) -> str:
    """Row of a stock's next value: after every node's row, at the stock's position (``at(1)``)."""
    base, stride = at(1) or (position, 0)
    return _row(n_nodes + base, stride)


def _x(row: str, lanes: int) -> str:
    return f"X[{row} * {lanes} + i]"


def _emit_items(g: ExpressionCode, items: list[Item], element: Callable, out: list[str], indent: int,
                lane_loop: bool, L: int) -> None:
    """Append the code of ``items`` to ``out``: a loop over ``e`` per run, lane loops around runs of singles.

    ``element(node, at, expr)`` returns the lines of one node, where ``at(k)`` is the
    first value and stride of the ``k``-th affine number (``0`` the node itself, ``1``
    the context's extra number; None for a single node) and ``expr(e)`` the loop body's form of
    one of the node's expressions (:func:`~sdkit.engine.runs.positional`), whose
    node references ``g.ref`` names; ``L`` is the lane count.
    """
    pad = "    " * indent
    lane = f"for i in range({L}):"
    singles: list[str] = []

    def flush() -> None:
        if singles:
            out.extend([pad + lane] if lane_loop else [])
            out.extend(pad + ("    " if lane_loop else "") + line for line in singles)
            singles.clear()

    for item in items:
        if isinstance(item, Run):
            flush()
            g.ref = lambda ref, run=item: _x(_row(*run.row(1 - ref)), L)  # Ref(-1 - k) is number 2 + k
            lines = element(item.nodes[0], item.row, positional)
            head = [f"for e in range({item.count}):"] + ([f"    {lane}"] if lane_loop else [])
            inner = "        " if lane_loop else "    "
            out.extend(pad + line for line in head)
            out.extend(pad + inner + line for line in lines)
        else:
            g.ref = lambda node: _x(str(node), L)
            singles += element(item, lambda k, node=item: (node, 0) if k == 0 else None, lambda expr: expr)
    flush()
    g.ref = None


def _assigned(g: ExpressionCode, target: str, expr) -> list[str]:
    lines: list[str] = []
    _assign(g, target, expr, lambda line, level=0: lines.append(line), 0)
    return lines


def generate_looped(g: ExpressionCode, ir: ModelIR, sched: Schedule, items: LoopItems, L: int) -> str:
    """The module source of the looped numba kernel in blocks of ``L`` lanes (same functions and arguments as
    the unrolled one)."""
    nodes = ir.nodes
    n_nodes = len(nodes)
    z_row = (n_nodes + len(sched.stocks)) * L
    params = {node: j for j, node in enumerate(i for i, nd in enumerate(nodes) if nd.kind == "param")}
    stock_pos = {node: j for j, node in enumerate(sched.stocks)}

    def step_line(i: int, at, expr) -> list[str]:
        return _assigned(g, _x(_row(*at(0)), L), expr(nodes[i].expr))

    def flow_lines(i: int, at, expr) -> list[str]:
        nd = nodes[i]
        target = _x(_next_row(at, stock_pos[i], n_nodes), L)
        return [*_assigned(g, "_d", expr(nd.flow)), *stock_update(nd, _x(_row(*at(0)), L), "_d", target)]

    compute: list[str] = []
    update: list[str] = []
    g.hoist = []
    _emit_items(g, items.step, step_line, compute, 1, lane_loop=True, L=L)
    _emit_items(g, items.stocks, flow_lines, update, 1, lane_loop=True, L=L)
    hoisted = ["    " + line for line in g.hoist]
    g.hoist = None
    order = check_order(ir, sched)
    n_static = static_checks(order, sched)
    check = [
        f"    for i in range({L}):",
        f"        X[{z_row} + i] = 0.0",
        "    for r in CHK_DYNAMIC:",
        f"        for i in range({L}):",
        f"            X[{z_row} + i] += X[r * {L} + i] * 0.0",
    ]
    # next values go to their own rows, so the check may follow the whole step
    steps = {"lanes": hoisted + compute + update, "lanes_full": ["    lanes(X, t, T0, TF, DT, SP, C, LK)", *check]}

    def init_lines(i: int, at, expr) -> list[str]:
        if i in params:
            return [f"{_x(_row(*at(0)), L)} = P[{_row(*(at(1) or (params[i], 0)))}, s]"]
        return _assigned(g, _x(_row(*at(0)), L), expr(ir.nodes[i].initial_value))

    body = ["        " + line for line in (f"m = min({L}, S1 - b)", "t = T0", "for i in range(m):", "    s = b + i")]
    g.fn = _NB_FN_CALLED
    _emit_items(g, items.init, init_lines, body, 3, lane_loop=False, L=L)
    g.fn = _NB_FN
    rings, ring_rows = delay_rings([(i, nodes[i].lag) for i in delay_lines(ir, sched)], z_row // L + 1)
    body += [
        f"        for r in range({n_nodes}):",
        f"            for i in range(m, {L}):",
        f"                X[r * {L} + i] = X[r * {L}]",
        *("        " + line for line in (ring_fill(L) if ring_rows else ())),
    ]
    numba_time_loop(lambda line, level=0: body.append("        " + "    " * level + line), z_row, lanes=L)

    body += [
        "            for j in range(STOCKS.shape[0]):",
        f"                r = STOCKS[j] * {L}",
        f"                for i in range({L}):",
        f"                    X[r + i] = X[({n_nodes} + j) * {L} + i]",
        *("            " + line for line in (ring_advance(L) if ring_rows else ())),
        "            k += 1",
    ]
    arrays = (f"CHK_DYNAMIC = _np.array({list(order[n_static:])!r}, dtype=_np.int64)",
              f"STOCKS = _np.array({list(sched.stocks)!r}, dtype=_np.int64)", *((rings_line(rings),) if ring_rows else ()))
    return numba_module(list(g.consts.values()), ir, steps, order[:n_static], z_row, body, L, arrays,
                        extra_rows=ring_rows)
