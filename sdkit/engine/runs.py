"""Runs: the elements of a subscripted equation, found in the scalar IR, so one loop computes them.

The translator expands ``x[Towns] = a[Towns] * b`` into one node per town. Those
nodes have the same expression tree except for the node numbers they read, and
every number is *affine* in the element's position ``e``: ``x`` is node
``351 + e``, ``a`` node ``1053 + e``, ``b`` node ``1755`` (stride 0). A
:class:`Run` records such a sequence (its first node, its length and the stride
of every number), so the numba code generator writes one ``for e in range(351)``
loop instead of 351 lines; its kernel's size and compile time grow with the
number of equations, not of elements.

:func:`find_runs` groups nodes of one evaluation context (initialisation, one
time step, the stocks' flows) by the shape of their expressions and splits each
group into affine runs; :func:`order_items` puts runs and single nodes into an
order where every node comes after the nodes it reads (a loop computes its
elements in increasing ``e``, so an element may read an earlier element of its
own run). Runs that cannot be ordered so (two runs that read each other's
elements crosswise) are dissolved into single nodes. Computing a node in a loop
instead of on its own line changes no arithmetic, so results are the same bits.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, replace

from sdkit.engine.ir import LEAVES, Binary, Call, Const, Control, Expr, LookupCall, Ref, children

#: runs shorter than this are written out element by element
MIN_RUN = 8


@dataclass(frozen=True)
class Run:
    """Nodes ``node + e * stride`` for ``e < count``, computed by one loop.

    ``coords`` are the first member's affine numbers (node, then the context's
    extra numbers such as a parameter's column or a stock's position, then the
    node numbers its expression reads, in :func:`shape` order); ``strides`` are
    their steps from one member to the next.
    """

    nodes: tuple[int, ...]
    coords: tuple[int, ...]
    strides: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.nodes)

    def row(self, k: int) -> tuple[int, int]:
        """The ``k``-th affine number: its value for the first member and its stride."""
        return self.coords[k], self.strides[k]


Item = Run | int


def shape(expr: Expr | None, refs: list[int]) -> Hashable:
    """The expression tree with every node number left out (appended to ``refs``, in order)."""
    if expr is None:
        return None
    if isinstance(expr, Ref):
        refs.append(expr.node)
        return "ref"
    if isinstance(expr, Const):
        return ("const", repr(expr.value))
    tag: tuple = (type(expr).__name__,)
    if isinstance(expr, Binary):
        tag += (expr.op,)
    elif isinstance(expr, Call):
        tag += (expr.name,)
    elif isinstance(expr, Control):
        tag += (expr.name,)
    elif isinstance(expr, LookupCall):
        tag += (expr.table,)
    return tag + tuple(shape(child, refs) for child in children(expr))


def positional(expr: Expr, count: Iterator[int] | None = None) -> Expr:
    """``expr`` with its ``k``-th node reference (in :func:`shape` order) replaced by ``Ref(-1 - k)``.

    A run's loop body is the first member's expression read this way: the same node
    may be read at two strides (``x[e] = y[e] / SUM(y[*])``).
    """
    count = itertools.count() if count is None else count
    if isinstance(expr, Ref):
        return Ref(-1 - next(count))
    if isinstance(expr, LEAVES):
        return expr
    changes = {}
    for f in fields(expr):
        value = getattr(expr, f.name)
        if isinstance(value, tuple):
            changes[f.name] = tuple(positional(arg, count) for arg in value)
        elif not isinstance(value, (str, int, float)):
            changes[f.name] = positional(value, count)
    return replace(expr, **changes)


def find_runs(members: Iterable[tuple[int, Hashable, Sequence[int]]]) -> list[Run]:
    """Affine runs among ``(node, key, numbers)`` triples; only equal keys share a run.

    ``numbers`` are the member's numbers that must step evenly along a run (the
    node itself is added first as number 0).
    """
    groups: dict[tuple, list[tuple[int, ...]]] = {}
    for node, key, numbers in members:
        coords = (node, *numbers)
        groups.setdefault((key, len(coords)), []).append(coords)
    runs: list[Run] = []
    for rows in groups.values():
        rows.sort()
        runs += _split(rows)
    return runs


#: how many following rows are tried as a run's second member (interleaved runs: two stateful
#: functions in one equation alternate their nodes)
CANDIDATES = 4


def _split(rows: list[tuple[int, ...]]) -> list[Run]:
    """Affine runs in rows sorted by node: from each row not yet in a run, the longest run
    whose second member is one of the next :data:`CANDIDATES` rows."""
    by_node = {row[0]: row for row in rows}
    used: set[int] = set()
    runs = []
    for k, row in enumerate(rows):
        if row[0] in used:
            continue
        best: list[tuple[int, ...]] = [row]
        step: tuple[int, ...] = ()
        for second in itertools.islice((r for r in itertools.islice(rows, k + 1, None) if r[0] not in used), CANDIDATES):
            members = _extend(row, _diff(second, row), by_node, used)
            if len(members) > len(best):
                best, step = members, _diff(second, row)
        if len(best) >= MIN_RUN:
            runs.append(Run(tuple(r[0] for r in best), row, step))
            used.update(r[0] for r in best)
    return runs


def _extend(first: tuple[int, ...], step: tuple[int, ...], by_node: dict, used: set[int]) -> list[tuple[int, ...]]:
    """``first`` and the rows that follow it at ``step``, as long as they exist unused."""
    members = [first]
    while True:
        following = by_node.get(members[-1][0] + step[0])
        if following is None or following[0] in used or _diff(following, members[-1]) != step:
            return members
        members.append(following)


def _diff(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x - y for x, y in zip(a, b, strict=True))


def order_items(order: Sequence[int], runs: Sequence[Run], deps: Callable[[int], Iterable[int]]) -> list[Item]:
    """Runs and the remaining nodes of ``order`` (a valid order), each after what it reads.

    ``deps(node)`` are the nodes ``node`` reads; those outside ``order`` are ignored.
    Items keep the position of their first node in ``order`` where dependencies allow.
    """
    runs = list(runs)
    while True:
        items, cyclic = _kahn(order, runs, deps)
        if not cyclic:
            return items
        runs = [r for r in runs if id(r) not in cyclic]


def _kahn(order: Sequence[int], runs: list[Run], deps) -> tuple[list[Item], set[int]]:
    """Topological order of the items, or the ids of runs that make it impossible."""
    bad = {id(run) for run in runs if _reads_ahead(run, deps)}
    if bad:
        return [], bad
    items: list[Item] = list(runs)
    owner = {node: k for k, run in enumerate(runs) for node in run.nodes}  # node -> item index
    for node in order:
        if node not in owner:
            owner[node] = len(items)
            items.append(node)
    position = {node: k for k, node in enumerate(order)}
    members = [item.nodes if isinstance(item, Run) else (item,) for item in items]
    needs = [
        {owner[d] for node in nodes for d in deps(node) if d in position} - {k}
        for k, nodes in enumerate(members)
    ]
    users: list[list[int]] = [[] for _ in items]
    for k, need in enumerate(needs):
        for j in need:
            users[j].append(k)
    first = [min(position[node] for node in nodes) for nodes in members]
    placed = _by_priority(needs, users, first)
    if len(placed) == len(items):
        return [items[k] for k in placed], set()
    stuck = set(range(len(items))) - set(placed)
    return [], {id(items[k]) for k in _on_cycles(stuck, needs, users) if isinstance(items[k], Run)}


def _reads_ahead(run: Run, deps) -> bool:
    """True when an element reads a later element of its run (a loop computes them in increasing e)."""
    element = {node: e for e, node in enumerate(run.nodes)}
    return any(element.get(d, -1) >= e for e, node in enumerate(run.nodes) for d in deps(node))


def _by_priority(needs: list[set[int]], users: list[list[int]], first: list[int]) -> list[int]:
    """Kahn's algorithm, the ready item with the smallest ``first`` next; cycles are left out."""
    waiting = [len(need) for need in needs]
    ready = [(first[k], k) for k in range(len(needs)) if not waiting[k]]
    heapq.heapify(ready)
    out: list[int] = []
    while ready:
        _, k = heapq.heappop(ready)
        out.append(k)
        for u in users[k]:
            waiting[u] -= 1
            if not waiting[u]:
                heapq.heappush(ready, (first[u], u))
    return out


def _on_cycles(stuck: set[int], needs: list[set[int]], users: list[list[int]]) -> set[int]:
    """The stuck items left after peeling those that no stuck item reads (downstream of a cycle)."""
    left = set(stuck)
    changed = True
    while changed:
        changed = False
        for k in list(left):
            if not any(u in left for u in users[k]):
                left.discard(k)
                changed = True
    return left or stuck
