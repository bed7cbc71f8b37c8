"""The one-function numba kernel: one time step of the whole model as one loop over the lanes, values in locals.

:func:`sdkit.engine.codegen.generate_numba` describes the layout (``X[node * L + i]``).
Before the lane loop each step computes what is the same for every lane (lookups and
functions of Time, ``ExpressionCode.hoist``) and then, one lane at a time, every lookup
of the step with the values of the step its argument reads (:class:`Gather`), so the
lane loop holds no table search and LLVM vectorises it.
"""

from __future__ import annotations

from typing import NamedTuple

from sdkit.engine import ir as IR
from sdkit.engine.codegen import (
    _NB_FN,
    _NB_FN_CALLED,
    ExpressionCode,
    _assign,
    _flow_code,
    _init_code,
    _uniform,
    check_order,
    delay_lines,
    static_checks,
    stock_update,
)
from sdkit.engine.ir import Expr, ModelIR, children, refs
from sdkit.engine.nbmodule import (
    delay_rings,
    numba_module,
    numba_time_loop,
    ring_advance,
    ring_fill,
    rings_line,
)
from sdkit.engine.schedule import Schedule


class Gather:
    """Lookups the one-function numba kernel computes before its lane loop, into rows of ``X``.

    LLVM does not vectorise a loop that reads a table at an index differing between lanes
    and stores into ``X`` (it cannot rule out that a store changes the table); a lookup
    whose argument reads only ``held`` values (parameters, stocks, values computed once,
    values of the step computed before the lane loop) is therefore computed before the lane
    loop, into rows from ``first`` on; ``row`` is the next free row. ``lines`` (one lane
    ``i``, a loop of its own) compute the values of the step that arguments read and whole
    lookups; in modes 0 to 2 (:meth:`ExpressionCode._gathered`) ``checks`` (a vectorised loop) test
    whether each lane's argument still lies in the interval kept in its rows from the step
    before, and ``fixes`` (one lane at a time) search the table only where it does not.
    ``nan_rows`` start each block as NaN (no interval yet), the other rows as zero.
    """

    def __init__(self, held: set[int], first: int, lanes: int) -> None:
        self.held = held
        self.first = self.row = first
        self.lanes = lanes
        self.lines: list[str] = []
        self.checks: list[str] = []
        self.fixes: list[str] = []
        self.nan_rows: list[int] = []

    def loop(self) -> list[str]:
        """The loops over the lanes computing the lookups (none without lookups)."""
        return [line for lines in (self.lines, self.checks, self.fixes) if lines
                for line in (f"    for i in range({self.lanes}):", *("        " + line for line in lines))]


def generate_lanes(g: ExpressionCode, ir: ModelIR, sched: Schedule, L: int) -> str:
    """The module source of the one-function numba kernel in blocks of ``L`` lanes, values in locals."""
    lanes = _numba_lanes(g, ir, sched, L)
    rings, ring_rows = delay_rings([(i, ir.nodes[i].lag) for i in delay_lines(ir, sched)],
                                   lanes.z_row // L + 1 + lanes.extra_rows)
    body = _numba_blocks(g, ir, sched, lanes.z_row, L, bool(ring_rows), lanes.extra_rows, lanes.nan_rows)
    steps = {name: [*lanes.before, f"    for i in range({L}):", *lines] for name, lines in (
        ("lanes", lanes.compute + lanes.update), ("lanes_full", lanes.compute + lanes.save + lanes.update))}
    return numba_module(list(g.consts.values()), ir, steps, lanes.order[:lanes.n_static], lanes.z_row, body, L,
                        arrays=(rings_line(rings),) if ring_rows else (), extra_rows=lanes.extra_rows + ring_rows)


class _Lanes(NamedTuple):
    """The numba kernel's per-lane code: one step's auxiliaries, their check and save, the stocks' update;
    ``before``, what each step computes before its lane loop (lookups and functions of Time, then lookups
    of held values into ``extra_rows`` rows of ``X`` after the check's)."""

    compute: list[str]
    save: list[str]
    update: list[str]
    before: list[str]
    order: list[int]
    n_static: int
    z_row: int
    extra_rows: int
    nan_rows: list[int]


def _numba_lanes(g: ExpressionCode, ir: ModelIR, sched: Schedule, L: int) -> _Lanes:
    nodes = ir.nodes
    step_nodes = set(sched.step)
    held = [i for i in range(len(nodes)) if i not in step_nodes]

    compute: list[str] = []  # one step's auxiliaries of lane i
    save: list[str] = []  # their values into X, for checking and saving
    update: list[str] = []  # the stocks' next values

    def emitter(lines: list[str]):
        return lambda line, level=0: lines.append("        " + "    " * level + line)

    z_row = (len(nodes) + len(sched.stocks)) * L
    g.hoist = []
    g.gather = Gather(set(held), z_row // L + 1, L)
    early = _before_lane_loop(g, ir, sched, L)
    for i in held + early:
        compute.append(f"        v{i} = X[{i * L} + i]")
    emit_compute = emitter(compute)
    for i in sched.step:
        if i not in g.gather.held:
            _assign(g, f"v{i}", ir.nodes[i].expr, emit_compute, 0)
    save += [f"        X[{i * L} + i] = v{i}" for i in sched.step]
    # x * 0.0 is 0 for finite x and NaN for NaN or inf: one sum per lane flags them all
    order = check_order(ir, sched)
    n_static = static_checks(order, sched)
    save.append("        _z = 0.0")
    dynamic = order[n_static:]
    for start in range(0, len(dynamic), 40):
        terms = " + ".join(f"v{i} * 0.0" for i in dynamic[start : start + 40])
        save.append(f"        _z += {terms}")
    save.append(f"        X[{z_row} + i] = _z")
    emit_update = emitter(update)
    _flow_code(g, ir, sched, emit_update, 0)
    for j, i in enumerate(sched.stocks):
        for line in stock_update(nodes[i], f"v{i}", f"d{i}", f"v{i}"):
            emit_update(line)
        emit_update(f"X[{(len(nodes) + j) * L} + i] = v{i}")
    before = ["    " + line for line in g.hoist] + g.gather.loop()
    extra_rows = g.gather.row - g.gather.first
    nan_rows = g.gather.nan_rows
    g.hoist = g.gather = None
    return _Lanes(compute, save, update, before, order, n_static, z_row, extra_rows, nan_rows)


def _before_lane_loop(g: ExpressionCode, ir: ModelIR, sched: Schedule, L: int) -> list[int]:
    """Write into ``g.gather`` the step's values that arguments of lookups read (and the values of the step
    those read), computed before the lane loop into their rows of ``X``, so that these lookups leave it too;
    return them, in schedule order."""
    step = set(sched.step)
    early: set[int] = set()

    def read_by_lookups(ex: Expr) -> None:
        if isinstance(ex, IR.LookupCall) and not _uniform(ex.x):
            early.update(refs(ex.x) & step)
        for child in children(ex):
            read_by_lookups(child)

    for i in sched.step:
        read_by_lookups(ir.nodes[i].expr)
    for i in sched.stocks:
        read_by_lookups(ir.nodes[i].flow)
    pending = list(early)
    while pending:
        for j in refs(ir.nodes[pending.pop()].expr) & step - early:
            early.add(j)
            pending.append(j)
    order = [i for i in sched.step if i in early]
    gather, g.gather, g.ref = g.gather, None, lambda node: f"X[{node * L} + i]"
    for i in order:  # one sample at a time: their lookups stay in the line
        code = g.e(ir.nodes[i].expr)
        gather.lines += [*g.flush(), f"X[{i * L} + i] = {code}"]
    g.gather, g.ref = gather, None
    gather.held |= early
    return order


def _numba_blocks(g: ExpressionCode, ir: ModelIR, sched: Schedule, z_row: int, L: int, rings: bool,
                  gathered: int, nan_rows: list[int]) -> list[str]:
    """``run``'s loop over blocks of ``L`` lanes: initialise each lane (and the ``gathered`` rows of lookups
    after the check's row: zero, NaN in ``nan_rows``), then step, check and save; with ``rings``, fill and
    advance the delay lines' rings (``RINGS``)."""
    nodes = ir.nodes
    params = [i for i, nd in enumerate(nodes) if nd.kind == "param"]
    body: list[str] = []

    def emit(line: str, level: int = 0) -> None:
        body.append("        " + "    " * level + line)

    emit(f"m = min({L}, S1 - b)")
    emit("t = T0")
    emit("for i in range(m):")
    emit("s = b + i", 1)
    for j, i in enumerate(params):
        emit(f"v{i} = P[{j}, s]", 1)
    g.fn = _NB_FN_CALLED
    _init_code(g, ir, sched, emit, 1)
    g.fn = _NB_FN
    for i in range(len(nodes)):
        emit(f"X[{i * L} + i] = v{i}", 1)
    emit(f"for r in range({len(nodes)}):")
    emit(f"for i in range(m, {L}):", 1)
    emit(f"X[r * {L} + i] = X[r * {L}]", 2)
    if gathered:
        emit(f"for r in range({z_row // L + 1}, {z_row // L + 1 + gathered}):")
        emit(f"for i in range({L}):", 1)
        emit(f"X[r * {L} + i] = 0.0", 2)
    for r in nan_rows:
        emit(f"for i in range({L}):")
        emit(f"X[{r * L} + i] = _np.nan", 1)
    for line in ring_fill(L) if rings else ():
        emit(line)
    numba_time_loop(emit, z_row, lanes=L)
    if sched.stocks:
        emit(f"for i in range({L}):", 1)  # spare lanes follow their block's first sample
    for j, i in enumerate(sched.stocks):
        emit(f"X[{i * L} + i] = X[{(len(nodes) + j) * L} + i]", 2)
    for line in ring_advance(L) if rings else ():
        emit(line, 1)
    emit("k += 1", 1)
    return body
