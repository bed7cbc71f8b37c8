"""The text of a numba kernel's module around its step functions, shared by the looped kernel and the blocked
kernel's driver; the kernel's modules and their names (the keys of numba's cache).

``run`` loops over blocks of samples (``lanes`` of them: :func:`lane_count`) and, for
each block, over time steps; see :func:`sdkit.engine.codegen.generate_numba`.
"""

from __future__ import annotations

import hashlib
import os
from typing import NamedTuple

from sdkit.engine.ir import ModelIR
from sdkit.errors import ParameterError

#: samples integrated side by side in the innermost loop of the blocked kernel (:mod:`sdkit.engine.nbblocks`)
#: and of the loop scores (:mod:`sdkit.loops.linkcode`); the one-function kernel chooses (:func:`lane_count`)
LANES = 16
#: lane counts the one-function kernel chooses from (multiples of the 16 lanes of two interleaved vectors)
LANE_CHOICES = (16, 32, 64, 128)
#: bytes of a block's values (one row of ``X`` per node and per stock's next value, and the check's row)
#: that :func:`lane_count` keeps within: two thirds of the 48 KiB level-1 data cache of the build
#: machine's cores, the rest for the lookup tables, the numbers and the stack
LANE_BUDGET = 32 * 1024
#: lanes of the kernel whose equations over subscript ranges are loops (:mod:`sdkit.engine.nbloops`)
LOOPED_LANES = 32
#: ``SDKIT_NUMBA_LANES=16`` (or 32, 64, 128) in the environment: that lane count, not :func:`lane_count`'s (to measure)
LANES_ENV = "SDKIT_NUMBA_LANES"


def lane_count(rows: int, looped: bool = False) -> int:
    """Samples side by side in the one-function kernel of a model whose block holds ``rows`` rows of values.

    The most of :data:`LANE_CHOICES` whose ``rows * lanes * 8`` bytes fit :data:`LANE_BUDGET` (at least
    the fewest). A short step is a short chain of dependent operations per sample: more samples side
    by side give the processor independent work while it waits for a result; a long step has that
    work within one sample, and more lanes only push its values out of the level-1 cache. A ``looped``
    kernel (equations as loops over elements) has :data:`LOOPED_LANES`: each of its lane loops is one
    equation, short whatever the model's size, and its values are read row after row from memory.
    """
    forced = os.environ.get(LANES_ENV, "")
    if forced:
        if forced not in {str(lanes) for lanes in LANE_CHOICES}:
            choices = ", ".join(map(str, LANE_CHOICES))
            raise ParameterError(f"{LANES_ENV}={forced} is not a lane count; use one of {choices} or unset it")
        return int(forced)
    if looped:
        return LOOPED_LANES
    fitting = [lanes for lanes in LANE_CHOICES if rows * lanes * 8 <= LANE_BUDGET]
    return max(fitting, default=LANE_CHOICES[0])


class NumbaModules(NamedTuple):
    """A numba kernel: its modules ``(name, text)``, the last defining ``run``, and ``run``'s last arguments.

    ``names`` maps, for each module, the local names of its code to ``(node, next)``: the node's value,
    or its next value for a stock (for :func:`sdkit.engine.annotate.annotated_modules`; empty where the
    code names nodes itself).
    """

    modules: list[tuple[str, str]]
    data: tuple
    names: list[dict[str, tuple[int, bool]]]

    @property
    def source(self) -> str:
        return "\n".join(text for _, text in self.modules)


def module_name(prefix: str, text: str, salt: str) -> str:
    """A module's name from its text and ``salt`` (what it is compiled with): the key of numba's cache."""
    return prefix + hashlib.sha256((text + salt).encode("utf-8")).hexdigest()[:24]


def numba_time_loop(emit, z_row: int | str, full: list[str] | None = None, plain: list[str] | None = None,
                    lanes: int = LANES) -> None:
    """The time loop of one block of ``lanes`` samples: full steps (check, save) and plain ones.

    ``full`` and ``plain`` are the lines of one step (default: calls of ``lanes_full`` and ``lanes``).
    """
    L = lanes
    full = full or ["lanes_full(X, T[k], T0, TF, DT, SP, C, LK)"]
    plain = plain or ["lanes(X, T[k], T0, TF, DT, SP, C, LK)"]
    emit("nbad = 0")
    emit("k = 0")
    emit("while True:")
    emit("full = k == 0 or CHK[k] or k == nsteps or SAVE[k] >= 0", 1)
    emit("if full:", 1)
    for line in full:
        emit(line, 2)
    emit("if k == 0 or CHK[k] or k == nsteps:", 2)
    emit("for i in range(m):", 3)
    emit(f"_z = X[{z_row} + i]", 4)
    emit("if k == 0:", 4)
    emit("for r in CHK_STATIC:", 5)
    emit(f"_z += X[r * {L} + i] * 0.0", 6)
    emit("if _z != 0.0 and BAD[b + i, 0] < 0:", 4)
    emit("BAD[b + i, 0] = k", 5)
    emit("nbad += 1", 5)
    emit("if nbad == m:", 3)
    emit("break", 4)
    emit("slot = SAVE[k]", 2)
    emit("if slot >= 0:", 2)
    emit("for j in range(SN.shape[0]):", 3)
    emit(f"r = SN[j] * {L}", 4)
    emit("for i in range(m):", 4)
    emit("buf[b + i, slot, j] = X[r + i]", 5)
    emit("else:", 1)
    for line in plain:
        emit(line, 2)
    emit("if k == nsteps:", 1)
    emit("break", 2)


def delay_rings(lines: list[tuple[int, int]], first_row: int) -> tuple[list[int], int]:
    """``RINGS`` for the delay lines ``(row of the value, lag)`` and the rows their rings take from ``first_row``
    on: per line its value's row, its ring's first row and its lag, flat."""
    flat, row = [], first_row
    for value_row, lag in lines:
        flat += [int(value_row), row, lag]
        row += lag
    return flat, row - first_row


def rings_line(rings: list[int]) -> str:
    """The module line defining ``RINGS`` (:func:`delay_rings`)."""
    return f"RINGS = _np.array({rings!r}, dtype=_np.int64)"


def ring_fill(lanes: int) -> list[str]:
    """Lines of ``run`` (after a block's initialisation) filling every slot of each delay line's ring
    (:data:`RINGS`) with the line's initial value, in all ``lanes`` lanes."""
    L = lanes
    return [
        "for q in range(0, RINGS.shape[0], 3):",
        "    for s in range(RINGS[q + 2]):",
        f"        for i in range({L}):",
        f"            X[(RINGS[q + 1] + s) * {L} + i] = X[RINGS[q] * {L} + i]",
    ]


def ring_advance(lanes: int) -> list[str]:
    """Lines of ``run`` after step ``k``'s stocks are updated: each delay line's value row, now holding the
    flow of step ``k``, is written to slot ``k % lag`` of its ring and replaced by slot ``(k + 1) % lag``,
    the flow of ``lag - 1`` steps before (or the initial value)."""
    L = lanes
    return [
        "for q in range(0, RINGS.shape[0], 3):",
        f"    r = RINGS[q] * {L}",
        f"    w = (RINGS[q + 1] + k % RINGS[q + 2]) * {L}",
        f"    u = (RINGS[q + 1] + (k + 1) % RINGS[q + 2]) * {L}",
        f"    for i in range({L}):",
        "        X[w + i] = X[r + i]",
        "        X[r + i] = X[u + i]",
    ]


def numba_module(const_names: list[str], ir: ModelIR, steps: dict[str, list[str]], static: list[int], z_row: int,
                 body: list[str], lanes: int, arrays: tuple[str, ...] = (), extra_rows: int = 0) -> str:
    """The module text: the step functions (name -> body after the numbers and tables) and ``run`` around ``body``.

    ``const_names`` name the numbers ``C`` in order; ``static`` are the nodes checked
    for NaN once (``CHK_STATIC``); ``run`` goes over blocks of ``lanes`` samples, ``X`` holding
    ``extra_rows`` rows after the check's row at ``z_row``; ``arrays`` are more module-level lines.
    """
    L = lanes
    consts = [f"    {name} = C[{j}]" for j, name in enumerate(const_names)]
    head = [
        "# generated by sdkit.engine.codegen from the model's AST; do not edit",
        "import numpy as _np",
        "import numba as _nb",
        "from sdkit.engine import nbfunctions as _F",
        "from sdkit.engine import vmath as _V",
        "_f64 = _np.float64",
        f"CHK_STATIC = _np.array({list(static)!r}, dtype=_np.int64)",
        *arrays,
        "",
    ]
    # numbers and lookup tables reach the compiled kernel as runtime arrays: LLVM
    # cannot specialise e.g. x ** 0.5 into sqrt(x) (different last bit than numpy),
    # and editing them does not change the source
    tables = [
        f"    _l{axis}{tid} = LK[{2 * tid + k}]"
        for tid in range(len(ir.lookups))
        for k, axis in enumerate("xy")
    ]
    for name, lines in steps.items():
        head += [
            "@_nb.njit(nogil=True, cache=True, error_model='numpy')",
            f"def {name}(X, t, T0, TF, DT, SP, C, LK):",
            *consts,
            *tables,
            *lines,
            "",
        ]
    head += [
        "@_nb.njit(nogil=True, cache=True, error_model='numpy')",
        "def run(P, T, SAVE, CHK, SN, buf, T0, TF, DT, SP, BAD, S0, S1, C, LK):",
        *consts,
        *tables,
        f"    X = _np.empty({z_row + L * (1 + extra_rows)})",
        "    nsteps = T.shape[0] - 1",
        f"    for b in range(S0, S1, {L}):",
    ]
    return "\n".join(head + body + ["    return 0", ""])
