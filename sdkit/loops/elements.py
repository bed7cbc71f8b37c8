"""Loop scores of subscripted models: a loop over variables is the sum of its loops over elements.

The loops :func:`~sdkit.loops.find_loops` lists are cycles of the variables (a
subscripted variable is one node). Links are scored element by element, each
element's equation being a scalar equation (``Order Power[liberal] -> Power
Share[liberal]``). A listed loop ``v1 -> v2 -> ... -> vn`` stands for every cycle over
elements that takes one element of each of its variables in turn along scored links:
its *element loops*. A listed loop's score is the sum of its element loops' scores,
the product of their link scores (the paper's loop score of each);
its relative score is that divided by the sum of the absolute scores of all element
loops of all listed loops. For a model without subscripts each listed loop is its only
element loop, and the scores are the paper's.

With ``M_k`` the matrix of scores of the links from the elements of ``v_k`` to those of
``v_(k+1)``, the sum over element loops is the trace of ``M_1 M_2 ... M_n``, and the
sum of their absolute scores the trace of the same product of ``|M_k|``: each loop is
scored by carrying a vector per starting element along its links, starting at the
variable with the fewest elements (a scalar variable, where the loop has one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from sdkit.errors import ParameterError, UnsupportedFeature

if TYPE_CHECKING:
    from sdkit.engine.ir import ModelIR
    from sdkit.loops.loop import Loop
    from sdkit.model import Model

#: time steps processed side by side
BLOCK = 64


@dataclass(frozen=True)
class NodeName:
    """What one node of the engine's IR is: an element of a model variable."""

    py_name: str
    variable: str
    dims: tuple[str, ...] = ()
    element: tuple[str, ...] = ()
    position: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        """The model name, with the element in brackets for a subscripted variable."""
        return f"{self.variable}[{','.join(self.element)}]" if self.element else self.variable


def node_names(model: Model, ir: ModelIR) -> dict[int, NodeName]:
    """IR node index -> the element of a model variable it is, for every node.

    Raises
    ------
    UnsupportedFeature
        A node is none of the model's variables (SMOOTH, DELAY, TREND or INITIAL).
    """
    nodes = {}
    for py_name, index in ir.var_nodes.items():
        dims = tuple(ir.var_dims.get(py_name, ()))
        for position, node in np.ndenumerate(np.asarray(index)):
            if node >= 0:
                element = tuple(ir.dims[d][p] for d, p in zip(dims, position, strict=True))
                nodes[int(node)] = NodeName(py_name, model.variables[py_name].name, dims, element, position)
    hidden = [node.label for i, node in enumerate(ir.nodes) if i not in nodes and node.kind != "param"]
    if hidden:
        raise UnsupportedFeature(f"link scores through SMOOTH, DELAY, TREND or INITIAL are not built yet "
                                 f"({model.path.name}: {hidden[0]})")
    return nodes


@dataclass(frozen=True)
class ScoredLink:
    """One row of the link scores: source and target variable (model names) and element labels."""

    source_variable: str
    source: str
    target_variable: str
    target: str


class ElementLoops:
    """The element loops of each listed loop, as sparse link matrices the kernel walks through."""

    def __init__(self, loops: Sequence[Loop], rows: Sequence[ScoredLink]) -> None:
        self.loops = list(loops)
        self.ids = np.array([*(loop.id for loop in self.loops), ""])
        by_pair: dict[tuple[str, str], list[int]] = {}
        for row, link in enumerate(rows):
            by_pair.setdefault((link.source_variable, link.target_variable), []).append(row)
        steps, entries = [0], [0]
        starts, widths, froms, tos, links = [], [], [], [], []
        for loop in self.loops:
            start, loop_steps = _walk(loop, rows, by_pair)
            starts.append(start)
            for width, entry in loop_steps:
                widths.append(width)
                for source, target, row in entry:
                    froms.append(source)
                    tos.append(target)
                    links.append(row)
                entries.append(len(links))
            steps.append(len(widths))
        self.start = np.array(starts, dtype=np.int64)
        self.step_start = np.array(steps, dtype=np.int64)
        self.width = np.array(widths, dtype=np.int64)
        self.entry_start = np.array(entries, dtype=np.int64)
        self.entry_from = np.array(froms, dtype=np.int64)
        self.entry_to = np.array(tos, dtype=np.int64)
        self.entry_link = np.array(links, dtype=np.int64)
        self.largest = int(max([*widths, *starts, 1]))

    def scores(self, table: np.ndarray, kept: Sequence[Loop],
               out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scores and relative scores of ``kept`` ``(loop, run, time)`` and the index of the dominant
        loop ``(run, time)`` (-1 where every loop scores 0) from link scores ``(link, run, time)``."""
        from sdkit.engine.threads import run_threads

        runs, steps = table.shape[1], table.shape[2]
        shape = (len(kept), runs, steps)
        score, relative = out if out is not None else (np.empty(shape), np.empty(shape))
        number = {loop.id: i for i, loop in enumerate(kept)}
        row = np.array([number.get(loop.id, -1) for loop in self.loops], dtype=np.int64)
        dominant = np.empty((runs, steps), dtype=np.int64)
        total = np.empty((runs, steps))
        args = (np.ascontiguousarray(table, dtype=np.float64), self.start, self.step_start, self.width,
                self.entry_start, self.entry_from, self.entry_to, self.entry_link, self.largest, row,
                score, dominant, total)
        with np.errstate(all="ignore"):
            run_threads(_scores, args, runs)
        return score, relative_scores(score, total, relative), dominant


def relative_scores(score: np.ndarray, total: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``score / total`` into ``out`` (0 where the total is 0)."""
    counted = total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(score, np.where(counted, total, 1.0), out=out)
    out[:, ~counted] = 0.0
    return out


def _walk(loop: Loop, rows: Sequence[ScoredLink], by_pair: dict[tuple[str, str], list[int]]):
    """The number of starting elements and, per link of the loop (from the variable with the fewest
    elements on the loop), the width of its target and its (source index, target index, row)."""
    variables = list(loop.variables)
    targets = [*variables[1:], variables[0]]
    pairs = []
    for source, target in zip(variables, targets, strict=True):
        found = by_pair.get((source, target))
        if not found:
            raise ParameterError(f"loop {loop.name or loop.id} uses the link {source} -> {target}, which has no "
                                 "score; score the links of the model the loop comes from")
        pairs.append(found)
    elements: dict[str, dict[str, int]] = {v: {} for v in variables}
    for found in pairs:
        for r in found:
            elements[rows[r].source_variable].setdefault(rows[r].source, len(elements[rows[r].source_variable]))
            elements[rows[r].target_variable].setdefault(rows[r].target, len(elements[rows[r].target_variable]))
    first = min(range(len(variables)), key=lambda i: len(elements[variables[i]]))
    order = [*range(first, len(variables)), *range(first)]
    steps = []
    for i in order:
        into = elements[targets[i]]
        entry = [(elements[variables[i]][rows[r].source], into[rows[r].target], r) for r in pairs[i]]
        steps.append((len(into), sorted(entry)))
    return len(elements[variables[first]]), steps


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _scores(table, start, step_start, width, entry_start, entry_from, entry_to, entry_link, largest, row, score,
            dominant, total, first, last):  # pragma: no cover - compiled
    links, steps = table.shape[0], table.shape[2]
    weight = np.empty((links, BLOCK))
    magnitude = np.empty((links, BLOCK))
    signed = np.zeros((largest, largest, BLOCK))
    absolute = np.zeros((largest, largest, BLOCK))
    signed_next = np.zeros((largest, largest, BLOCK))
    absolute_next = np.zeros((largest, largest, BLOCK))
    value = np.empty(BLOCK)
    summed = np.empty(BLOCK)
    best = np.empty(BLOCK)
    added = np.empty(BLOCK)
    leader = np.empty(BLOCK, dtype=np.int64)
    for s in range(first, last):
        for k0 in range(0, steps, BLOCK):
            for r in range(links):  # a block's scores side by side (the last time repeated past the end)
                for j in range(BLOCK):
                    weight[r, j] = table[r, s, min(k0 + j, steps - 1)]
                    magnitude[r, j] = abs(weight[r, j])
            best[:] = 0.0
            added[:] = 0.0
            leader[:] = -1
            for loop in range(start.size):
                n = start[loop]
                for a in range(n):
                    for i in range(n):
                        for j in range(BLOCK):
                            signed[a, i, j] = 1.0 if a == i else 0.0
                            absolute[a, i, j] = signed[a, i, j]
                for step in range(step_start[loop], step_start[loop + 1]):
                    signed_next[:n, :width[step]] = 0.0
                    absolute_next[:n, :width[step]] = 0.0
                    for e in range(entry_start[step], entry_start[step + 1]):
                        w, mag = weight[entry_link[e]], magnitude[entry_link[e]]
                        for a in range(n):
                            into, out_of = signed_next[a, entry_to[e]], signed[a, entry_from[e]]
                            into_abs, out_of_abs = absolute_next[a, entry_to[e]], absolute[a, entry_from[e]]
                            for j in range(BLOCK):
                                into[j] += out_of[j] * w[j]
                                into_abs[j] += out_of_abs[j] * mag[j]
                    signed, signed_next = signed_next, signed
                    absolute, absolute_next = absolute_next, absolute
                value[:] = 0.0
                summed[:] = 0.0
                for a in range(n):
                    for j in range(BLOCK):
                        value[j] += signed[a, a, j]
                        summed[j] += absolute[a, a, j]
                for j in range(BLOCK):
                    added[j] += summed[j]
                    ahead = abs(value[j]) > best[j]
                    best[j] = abs(value[j]) if ahead else best[j]
                    leader[j] = loop if ahead else leader[j]
                if row[loop] >= 0:
                    for j in range(min(BLOCK, steps - k0)):
                        score[row[loop], s, k0 + j] = value[j]
            for j in range(min(BLOCK, steps - k0)):
                total[s, k0 + j] = added[j]
                dominant[s, k0 + j] = leader[j]
    return 0
