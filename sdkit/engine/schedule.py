"""Evaluation order of the scalar nodes: initialisation order and per-step order."""

from __future__ import annotations

from dataclasses import dataclass

from sdkit.engine.ir import ModelIR, refs, uses_time
from sdkit.errors import ModelFileError


@dataclass
class Schedule:
    """Orders in which the generated code evaluates nodes.

    Attributes
    ----------
    init : list of int
        Every node, in an order where each node's initial-value expression only
        reads nodes earlier in the list.
    step : list of int
        Time-dependent aux nodes, in dependency order, recomputed every step.
    stocks : list of int
        Stock nodes (integrated by Euler after each step).
    """

    init: list[int]
    step: list[int]
    stocks: list[int]


def _toposort(n: int, deps: dict[int, set[int]], members: list[int], what: str, ir: ModelIR):
    """Depth-first topological sort of ``members`` (stable by node index)."""
    state: dict[int, int] = {}
    out: list[int] = []
    member_set = set(members)
    for root in members:
        if state.get(root) == 2:
            continue
        stack = [(root, iter(sorted(deps.get(root, ()))))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            advanced = False
            for d in it:
                if d not in member_set:
                    continue
                st = state.get(d)
                if st == 1:
                    cycle = [ir.nodes[x].label for x, _ in stack[[s for s, _ in stack].index(d) :]]
                    raise ModelFileError(
                        f"{what} loop through {' -> '.join(cycle)}; break it with a stock or "
                        "an INITIAL"
                    )
                if st is None:
                    state[d] = 1
                    stack.append((d, iter(sorted(deps.get(d, ())))))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                state[node] = 2
                out.append(node)
    return out


def order_nodes(ir: ModelIR) -> Schedule:
    """Compute the initialisation and per-step evaluation orders of ``ir``.

    Raises
    ------
    ModelFileError
        On an algebraic loop (simultaneous equations) or circular initial values.
    """
    nodes = ir.nodes
    n = len(nodes)
    init_deps: dict[int, set[int]] = {}
    step_deps: dict[int, set[int]] = {}
    for i, node in enumerate(nodes):
        if node.kind == "param":
            init_deps[i] = set()
        elif node.kind == "stock":
            init_deps[i] = refs(node.init_expr)
        elif node.kind == "initial":
            init_deps[i] = refs(node.expr)
        else:
            init_deps[i] = refs(node.init_expr if node.init_expr is not None else node.expr)
            step_deps[i] = refs(node.expr)
    # dynamic auxes: read time or (transitively) a stock
    dynamic: dict[int, bool] = {}
    aux_ids = [i for i, node in enumerate(nodes) if node.kind == "aux"]
    aux_order = _toposort(n, step_deps, aux_ids, "algebraic", ir)
    for i in aux_order:
        node = nodes[i]
        dyn = uses_time(node.expr) or node.init_expr is not None
        if not dyn:
            for d in step_deps[i]:
                k = nodes[d].kind
                if k == "stock" or (k == "aux" and dynamic[d]):
                    dyn = True
                    break
        dynamic[i] = dyn
    init_order = _toposort(n, init_deps, list(range(n)), "initial-value", ir)
    step = [i for i in aux_order if dynamic[i]]
    stocks = [i for i, node in enumerate(nodes) if node.kind == "stock"]
    return Schedule(init=init_order, step=step, stocks=stocks)
