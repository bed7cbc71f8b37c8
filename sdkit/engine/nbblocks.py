"""The numba kernel as blocks of equations, each compiled and cached on its own.

A model's equations, in schedule order, are cut into blocks (:func:`cut`). Each block
is a module of its own with one function; a block of the time step reads::

    def block(X, W, R, m, t, T0, TF, DT, SP, C):
        # copy the rows it reads (R[0], R[1], ...) from X to W
        o = R[A] * 16                    # its first output row
        for i in range(16):
            a0 = W[0 + i]
            ...
            b0 = (a0 * _c0)              # its equations, on locals
            X[o + 0 + i] = b0            # its outputs, in consecutive rows of X
            ...

Its text names what it reads ``a0, a1, ...``, what it computes ``b0, b1, ...``,
its numbers ``_c0, ...`` and its lookups ``_lx0, _ly0, ...`` in the order it uses
them; which rows those are, the numbers and the lookup points are data (``R``,
``C``). So a block's text depends on its equations only, not on where its nodes
sit in the model, and numba's on-disk cache, keyed by that text, reuses it after an
edit elsewhere in the model. The driver module (:data:`DRIVER`: ``run``, the time
loop, the NaN check, saving) is the same for every model and calls the blocks by
address (:mod:`sdkit.engine.nbcall`), so a structural edit compiles only the
blocks holding the edited equations. Cuts are content-defined (:func:`cut`), so an
added or removed equation moves no cut far from itself.

Inside a block's loop over the lanes every value is a local and every row a
constant offset from ``W`` or ``o``, so LLVM vectorises it as it did the
one-function kernel (see :func:`sdkit.engine.codegen.generate_numba`); the
arithmetic of each node is the same expression, so the results are the same bits.
A block of the initialisation runs over the ``m`` lanes of a chunk's samples and
copies its outputs back through ``W``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from sdkit.engine import ir as IR
from sdkit.engine.codegen import (
    _NB_FN,
    _NB_FN_CALLED,
    ExpressionCode,
    check_order,
    delay_lines,
    static_checks,
    stock_update,
)
from sdkit.engine.ir import Expr, ModelIR, children
from sdkit.engine.nbmodule import (
    LANES,
    NumbaModules,
    delay_rings,
    module_name,
    numba_time_loop,
    ring_advance,
    ring_fill,
)
from sdkit.engine.schedule import Schedule

L = LANES
#: ``SDKIT_NUMBA_BLOCKS``: 1 the numba kernel in blocks, 0 in one function (see :mod:`sdkit.engine.kernel_choice`)
BLOCKS_ENV = "SDKIT_NUMBA_BLOCKS"
#: a block ends after a node whose label hashes to a multiple of this (mean block size, in nodes) ...
BLOCK_NODES = 20
#: ... once its work (:func:`work`) reaches the first of these; past the second, after a multiple of
#: :data:`LONG_BLOCK_NODES`; and at the third at the latest (numba's compile time grows with the work)
MIN_WORK, LONG_WORK, MAX_WORK = 40, 120, 400
LONG_BLOCK_NODES = 4
#: work of an EXP, LN, POWER or trigonometric call: numba inlines a polynomial (:mod:`sdkit.engine.vmath`)
MATHS_WORK = 15
_MATHS = {"exp", "ln", "power", "sin", "cos", "tan", "arctan"}
_JIT = "@_nb.njit(nogil=True, cache=True, error_model='numpy')"
_ARGS = "X, W, R, m, t, T0, TF, DT, SP, C"


class Block(NamedTuple):
    """A block's module text and its data: rows ``R`` (read, written, then bounds of its tables in ``C``) and
    ``C`` (its numbers, then its lookup tables' x and y); ``width`` is the length of ``W`` it needs."""

    text: str
    rows: np.ndarray
    numbers: np.ndarray
    width: int
    names: dict[str, tuple[int, bool]]


def work(expr: Expr | None) -> int:
    """A measure of the code of ``expr``: one per IR node, :data:`MATHS_WORK` per inlined function."""
    if expr is None:
        return 0
    own = MATHS_WORK if (isinstance(expr, IR.Call) and expr.name in _MATHS) or (
        isinstance(expr, IR.Binary) and expr.op == "^") else 1
    return own + sum(work(child) for child in children(expr))


def cut(nodes: Sequence[int], label: Callable[[int], str], cost: Callable[[int], int]) -> list[list[int]]:
    """``nodes`` in blocks, cut after nodes chosen by the hash of their label (content-defined, as in rsync).

    A block ends after a node whose label's hash is a multiple of :data:`BLOCK_NODES` once its work (``cost`` of
    its nodes) reaches :data:`MIN_WORK`, or of :data:`LONG_BLOCK_NODES` past :data:`LONG_WORK`. So a cut depends
    on the node it follows and the work since the previous cut: an edit moves no cut beyond the next one or two.
    """
    blocks: list[list[int]] = []
    current: list[int] = []
    total = 0
    for node in nodes:
        current.append(node)
        total += cost(node)
        mark = int.from_bytes(hashlib.sha256(label(node).encode("utf-8")).digest()[:4], "big")
        if (total >= MIN_WORK and mark % BLOCK_NODES == 0) or (total >= LONG_WORK and mark % LONG_BLOCK_NODES == 0) \
                or total >= MAX_WORK:
            blocks.append(current)
            current, total = [], 0
    return blocks + ([current] if current else [])


class _BlockCode(ExpressionCode):
    """Expressions of one block: nodes read are ``a{j}``, nodes computed ``b{k}``, lookups numbered locally."""

    def __init__(self, ir: ModelIR, fn: dict[str, str]) -> None:
        super().__init__(ir, "numba")
        self.fn = fn
        self.inputs: dict[int, int] = {}
        self.computed: dict[int, str] = {}
        self.tables: dict[int, int] = {}
        self.ref = self.name

    def name(self, node: int) -> str:
        if node in self.computed:
            return self.computed[node]
        return f"a{self.inputs.setdefault(node, len(self.inputs))}"

    def table(self, tid: int) -> str:
        j = self.tables.setdefault(tid, len(self.tables))
        return f"_lx{j}, _ly{j}, {self.ir.lookups[tid].code}"


def _line(g: _BlockCode, target: str, expr: Expr) -> list[str]:
    code = g.e(expr)
    return [*g.flush(), f"{target} = {code}"]


def _block(ir: ModelIR, entries: list[tuple[int, int, Expr | None]], rows: Sequence[int], init: bool) -> Block:
    """One block of ``(node, row, expr)``: ``expr`` is the node's value, or None for a stock's next value.

    ``rows`` maps nodes to rows of ``X``. A step's block writes its outputs to consecutive rows of ``X``
    (``entries`` come in row order); an initialisation's block runs over the ``m`` lanes of the samples
    and copies its outputs back through ``W``.
    """
    g = _BlockCode(ir, _NB_FN_CALLED if init else _NB_FN)
    g.hoist = None if init else []
    body: list[str] = []
    for k, (node, _, expr) in enumerate(entries):
        if expr is None:
            body += _stock_next(g, ir, node, f"b{k}")
        else:
            body += _line(g, f"b{k}", expr)
            g.computed[node] = f"b{k}"
    reads, writes = len(g.inputs), len(entries)
    loads = [f"a{j} = W[{j * L} + i]" for j in range(reads)]
    if init:
        stores = [f"W[{(reads + k) * L} + i] = b{k}" for k in range(writes)]
        head, tail = _copy(f"W[j * {L} + i] = X[r + i]", 0, reads), _copy(f"X[r + i] = W[j * {L} + i]", reads, reads + writes)
    else:
        stores = [f"X[o + {k * L} + i] = b{k}" for k in range(writes)]
        head, tail = [*_gather(reads), f"    o = (R[{reads}] & 0xFFFFFFFF) * {L}"], []
    inputs = sorted(g.inputs, key=g.inputs.__getitem__)
    written = [row for _, row, _ in entries][: writes if init else 1]
    text = _block_text(g, head, loads + body + stores, tail, reads + len(written), init)
    names = {f"a{j}": (node, False) for j, node in enumerate(inputs)}
    names |= {f"b{k}": (node, expr is None) for k, (node, _, expr) in enumerate(entries)}
    numbers, starts = _block_numbers(ir, g)
    width = (reads + writes if init else max(reads, 1)) * L
    return Block(text, np.array([rows[i] for i in inputs] + written + starts, dtype=np.int64), numbers, width, names)


def _block_text(g: _BlockCode, head: list[str], loop: list[str], tail: list[str], bounds: int, init: bool) -> str:
    """A block's module; ``R[bounds + j]`` is where the ``j``-th x or y array of its lookups starts in ``C``."""
    return "\n".join([
        "# generated by sdkit.engine.nbblocks from the model's AST; do not edit",
        "import numpy as _np",
        "import numba as _nb",
        "from sdkit.engine import nbfunctions as _F",
        "from sdkit.engine import vmath as _V",
        "_f64 = _np.float64",
        "",
        _JIT,
        f"def block({_ARGS}):",
        *head,
        *(f"    {name} = C[{j}]" for j, name in enumerate(g.consts.values())),
        *(f"    _l{axis}{j} = C[R[{bounds + 2 * j + k}]:R[{bounds + 2 * j + k + 1}]]"
          for j in range(len(g.tables)) for k, axis in enumerate("xy")),
        *("    " + line for line in g.hoist or ()),
        f"    for i in range({'m' if init else L}):",
        *("        " + line for line in (loop or ["pass"])),
        *tail,
        "    return 0",
        "",
    ])


def _block_numbers(ir: ModelIR, g: _BlockCode) -> tuple[np.ndarray, list[int]]:
    """A block's ``C`` (its numbers, then its lookups' x and y arrays) and where each array ends in it."""
    tables = [np.asarray(a, dtype=np.float64) for tid in sorted(g.tables, key=g.tables.__getitem__)
              for a in (ir.lookups[tid].x, ir.lookups[tid].y)]
    numbers = [np.array([float(key) for key in g.consts], dtype=np.float64), *tables]
    starts = np.cumsum([len(a) for a in numbers]).tolist() if tables else []
    return np.concatenate(numbers), starts


def _copy(line: str, start: int, stop: int) -> list[str]:
    """A loop copying rows ``start`` to ``stop`` of the block between ``X`` and ``W``.

    The loop runs over ``m`` lanes, not a literal 16: LLVM would unroll a loop of 16 and then could not
    vectorise the copies (``W`` may overlap ``X`` for all it knows); over ``m`` it vectorises them behind
    one overlap check. The mask tells LLVM that the row is not negative (no wrap-around of the index).
    """
    if start == stop:
        return []
    return [f"    for j in range({start}, {stop}):", f"        r = (R[j] & 0xFFFFFFFF) * {L}",
            "        for i in range(m):", f"            {line}"]


def _gather(reads: int) -> list[str]:
    """A loop copying the ``reads`` rows a step's block reads from ``X`` to ``W``, all 16 loads before the stores.

    So LLVM copies each row with a few vector loads and stores although ``W`` may overlap ``X`` as far as it
    knows; the mask tells it the row is not negative (no wrap-around of the index).
    """
    if not reads:
        return []
    copy = [f"_x{i} = X[r + {i}]" for i in range(L)] + [f"W[w + {i}] = _x{i}" for i in range(L)]
    return [f"    for j in range({reads}):", f"        r = (R[j] & 0xFFFFFFFF) * {L}", f"        w = j * {L}",
            *("        " + line for line in copy)]


def _stock_next(g: _BlockCode, ir: ModelIR, node: int, target: str) -> list[str]:
    """A stock's next value from its flow (:func:`sdkit.engine.codegen.stock_update`)."""
    nd = ir.nodes[node]
    return [*_line(g, "_d", nd.flow), *stock_update(nd, g.name(node), "_d", target)]



class Layout(NamedTuple):
    """Where values live in ``X``: each step block's outputs in consecutive rows, in block order, then the rest."""

    rows: np.ndarray  # node -> row of its value
    next_rows: list[int]  # the stocks' next values, in schedule order
    size: int  # rows in all


def _blocks(ir: ModelIR, sched: Schedule) -> tuple[list[Block], list[Block], Layout]:
    """The initialisation's blocks, one step's blocks (auxiliaries, then the stocks' next values), and the rows."""
    nodes = ir.nodes
    label = lambda i: nodes[i].label  # noqa: E731
    keys = [(i, False) for i in sched.step] + [(i, True) for i in sched.stocks]
    parts = cut(range(len(keys)), lambda k: ("next " if keys[k][1] else "") + label(keys[k][0]),
                lambda k: 1 + work(nodes[keys[k][0]].flow if keys[k][1] else nodes[keys[k][0]].expr))
    row = {keys[k]: r for r, k in enumerate(k for part in parts for k in part)}
    for i in range(len(nodes)):
        row.setdefault((i, False), len(row))
    layout = Layout(np.array([row[(i, False)] for i in range(len(nodes))], dtype=np.int64),
                    [row[(i, True)] for i in sched.stocks], len(row))
    init = [i for i in sched.init if nodes[i].kind != "param"]
    init_blocks = [_block(ir, [(i, layout.rows[i], ir.nodes[i].initial_value) for i in part], layout.rows, True)
                   for part in cut(init, label, lambda i: 1 + work(ir.nodes[i].initial_value))]
    step_blocks = [
        _block(ir, [(keys[k][0], row[keys[k]], None if keys[k][1] else nodes[keys[k][0]].expr) for k in part],
               layout.rows, False)
        for part in parts
    ]
    return init_blocks, step_blocks, layout


def generate_blocked(ir: ModelIR, sched: Schedule, salt: str) -> NumbaModules:
    """The blocked kernel's modules and the data of its ``run``: ``salt`` (what the code is compiled with)
    enters the modules' names. ``run``'s data are the blocks' functions (given when they are loaded),
    rows and numbers, and the rows and sizes the driver needs."""
    init_blocks, step_blocks, layout = _blocks(ir, sched)
    blocks = init_blocks + step_blocks or [_block(ir, [], layout.rows, False)]
    z_row = layout.size * L
    checked = check_order(ir, sched)
    n_static = static_checks(checked, sched)
    order = [int(layout.rows[i]) for i in checked]
    params = [int(layout.rows[i]) for i, nd in enumerate(ir.nodes) if nd.kind == "param"]
    stocks = [int(layout.rows[i]) for i in sched.stocks]
    rings, ring_rows = delay_rings([(layout.rows[i], ir.nodes[i].lag) for i in delay_lines(ir, sched)],
                                   layout.size + 1)
    sizes = [len(init_blocks), layout.size, z_row, z_row + L * (1 + ring_rows), max(b.width for b in blocks)]
    rows = tuple(np.array(a, dtype=np.int64) for a in (
        order[:n_static], order[n_static:], stocks, params, sizes, layout.next_rows, layout.rows, rings))
    data = (tuple(b.rows for b in blocks), tuple(b.numbers for b in blocks), rows)
    modules = [(module_name("sdkit_block_", b.text, salt), b.text) for b in blocks]
    modules.append((module_name("sdkit_kernel_", DRIVER, salt), DRIVER))
    return NumbaModules(modules, data, [b.names for b in blocks] + [{}])


def _driver() -> str:
    """The module of ``run``, the same for every model: parameters into ``X``, the initialisation's
    blocks, then the time loop calling the step's blocks (``F``: the addresses of the blocks' functions)."""
    body = [
        f"        m = min({L}, S1 - b)",
        "        for j in range(PROW.shape[0]):",
        f"            r = PROW[j] * {L}",
        "            for i in range(m):",
        "                X[r + i] = P[j, b + i]",
        "        for q in range(SIZES[0]):",
        "            f = _block(F[q])",
        "            f(X, W, D[q], m, T0, T0, TF, DT, SP, C[q])",
        "        for r in range(SIZES[1]):",
        f"            for i in range(m, {L}):",
        f"                X[r * {L} + i] = X[r * {L}]",
        *("        " + line for line in ring_fill(L)),
    ]
    step = ["for q in range(SIZES[0], len(F)):", "    f = _block(F[q])", f"    f(X, W, D[q], {L}, T[k], T0, TF, DT, SP, C[q])"]
    check = [f"for i in range({L}):", "    X[Z + i] = 0.0", "for r in G[1]:", f"    for i in range({L}):",
             f"        X[Z + i] += X[r * {L} + i] * 0.0"]
    numba_time_loop(lambda line, level=0: body.append("        " + "    " * level + line), "Z", step + check, step)
    body += [
        "            for j in range(STOCKS.shape[0]):",
        f"                r = STOCKS[j] * {L}",
        f"                for i in range({L}):",
        f"                    X[r + i] = X[NEXT[j] * {L} + i]",
        *("            " + line for line in ring_advance(L)),
        "            k += 1",
    ]
    return "\n".join([
        "# generated by sdkit.engine.nbblocks; do not edit",
        "import numpy as _np",
        "import numba as _nb",
        "from sdkit.engine.nbcall import block_function as _block",
        "",
        _JIT,
        "def run(P, T, SAVE, CHK, SN, buf, T0, TF, DT, SP, BAD, S0, S1, F, D, C, G):",
        "    CHK_STATIC, STOCKS, PROW, SIZES, NEXT, RINGS = G[0], G[2], G[3], G[4], G[5], G[7]",
        "    SN = G[6][SN]  # rows of the saved nodes",
        "    Z = SIZES[2]",
        "    X = _np.empty(SIZES[3])",
        "    W = _np.empty(SIZES[4])",
        "    nsteps = T.shape[0] - 1",
        f"    for b in range(S0, S1, {L}):",
        *body,
        "    return 0",
        "",
    ])


#: the driver module's text, the same for every model
DRIVER = _driver()


def block_addresses(modules) -> np.ndarray | None:
    """The addresses of the compiled functions of the block modules among ``modules`` (imported), compiled
    (or loaded from numba's cache) now; None when there are none. Call under the compile lock."""
    blocks = [sys.modules[name].block for name, _ in modules if name.startswith("sdkit_block_")]
    if not blocks:
        return None
    from sdkit.engine.nbcall import address_of

    return np.array([address_of(block) for block in blocks], dtype=np.int64)
