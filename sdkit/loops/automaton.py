"""Every loop's score at once: the loops as one acyclic automaton over their links.

A loop's score is the product of its link scores, taken in the loop's own order
(from its first variable). Written as sequences of links, the loops of a model share
long beginnings and endings: the 5,003 loops of the core model (123,051 links in all)
are the paths of a graph of 2,810 states and 3,931 edges once equal beginnings
(a trie) and equal endings (equal sub-tries) are merged; 1,804 of those states have one
edge in and one out, so the runs through them are followed as single edges of several
links (2,127 in all). Along such a graph, in one pass over its edges, at each state:

- the largest absolute product of a path into it, ``fl(largest(parent) * |w|)``: each
  path's product is rounded exactly as the loop's own product is (same factors, same
  order), and rounding is monotone, so the largest is the largest loop score's
  absolute value, bit for bit;
- the sum of the absolute products of the paths into it: at the end state, the
  total of all loops' absolute scores (the relative scores' denominator), summed in
  another order than loop by loop, so equal to within rounding (a few units in the
  last place per link);
- how many paths reach that largest value, and the edge of one of them.

At the end state, a single path with the largest value is followed back to name the
dominant loop; where two or more loops tie, every loop's product is computed in the
loops' order and the first with the largest absolute score is chosen, as a loop-by-
loop comparison would. The count sees ties of paths that lead at every state they
pass (equal products of equal factors, which is how loops tie in practice); two loops
whose products differ but round to the same number, one of them not leading at some
state on its way, are not counted as a tie, and either may be named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numba as nb
import numpy as np

from sdkit.engine.vmath import select

#: time steps processed side by side (one vector loop per edge)
BLOCK = 128


@dataclass(frozen=True)
class LoopAutomaton:
    """The loops' link sequences as a trie (to name a path) and as a merged graph (to score them)."""

    edge_source: np.ndarray
    edge_target: np.ndarray
    edge_start: np.ndarray
    edge_links: np.ndarray
    edge_first: np.ndarray
    states: int
    root: int
    end: int
    trie_start: np.ndarray
    trie_link: np.ndarray
    trie_child: np.ndarray
    trie_loop: np.ndarray
    loop_start: np.ndarray
    loop_links: np.ndarray

    def dominance(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For link scores ``(link, sample, time)``: the index of the dominant loop (-1 where
        every loop scores 0) and the sum of all loops' absolute scores, both ``(sample, time)``."""
        from sdkit.engine.threads import run_threads

        n, steps = scores.shape[1], scores.shape[2]
        dominant = np.empty((n, steps), dtype=np.int64)
        total = np.empty((n, steps))
        path = int(np.diff(self.loop_start).max(initial=1))
        args = (np.ascontiguousarray(scores, dtype=np.float64), self.edge_source, self.edge_target, self.edge_start,
                self.edge_links, self.edge_first, self.states, self.root, self.end, self.trie_start, self.trie_link, self.trie_child, self.trie_loop,
                self.loop_start, self.loop_links, path, dominant, total)
        with np.errstate(all="ignore"):
            run_threads(_dominance, args, n)
        return dominant, total


def loop_automaton(sequences: Sequence[Sequence[int]]) -> LoopAutomaton:
    """The automaton of loops given as sequences of link rows (in loop order)."""
    children: list[dict[int, int]] = [{}]
    leaf_loop = [-1]
    for number, sequence in enumerate(sequences):
        node = 0
        for link in sequence:
            if link not in children[node]:
                children[node][link] = len(children)
                children.append({})
                leaf_loop.append(-1)
            node = children[node][link]
        leaf_loop[node] = number
    state_of, edges = _merge(children)
    chains = _chains(sorted(edges, key=lambda e: (-e[0], e[2])), state_of[0], _end_state(children, state_of))
    starts = np.cumsum([0, *(len(c) for c in children)])
    links = [link for c in children for link in sorted(c)]
    child = [c[link] for c in children for link in sorted(c)]
    loop_links = [link for sequence in sequences for link in sequence]
    return LoopAutomaton(
        np.array([c[0] for c in chains], dtype=np.int64), np.array([c[1] for c in chains], dtype=np.int64),
        np.cumsum([0, *(len(c[2]) for c in chains)]).astype(np.int64),
        np.array([link for c in chains for link in c[2]], dtype=np.int64), _first_into(chains),
        max(state_of) + 1, state_of[0], _end_state(children, state_of), starts.astype(np.int64),
        np.array(links, dtype=np.int64), np.array(child, dtype=np.int64), np.array(leaf_loop, dtype=np.int64),
        np.cumsum([0, *(len(s) for s in sequences)]).astype(np.int64), np.array(loop_links, dtype=np.int64))


def _chains(edges: list[tuple[int, int, int]], root: int, end: int) -> list[tuple[int, int, list[int]]]:
    """The edges with each run through states of one edge in and one out joined into one
    (source, target, links): the same products, multiplied in the same order, with no
    stop at the states between (two in three of the core model's)."""
    into, out_of = Counter(e[1] for e in edges), Counter(e[0] for e in edges)
    passing = {state for state in into if into[state] == 1 and out_of[state] == 1 and state not in (root, end)}
    onward = {e[0]: e for e in edges if e[0] in passing}
    chains = []
    for source, target, link in edges:
        if source in passing:
            continue
        links = [link]
        while target in passing:
            _, target, link = onward[target]
            links.append(link)
        chains.append((source, target, links))
    return chains


def _merge(children: list[dict[int, int]]) -> tuple[list[int], set[tuple[int, int, int]]]:
    """Trie node -> state of the merged graph (equal sub-tries share a state; a child's
    state number is below its parent's), and the graph's edges (source, target, link)."""
    state_of = [0] * len(children)
    registry: dict[tuple, int] = {}
    edges = set()
    # trie nodes are numbered parent before child: reversed order visits children first
    for node in reversed(range(len(children))):
        key = tuple(sorted((link, state_of[c]) for link, c in children[node].items()))
        state_of[node] = registry.setdefault(key, len(registry))
        edges.update((state_of[node], target, link) for link, target in key)
    return state_of, edges


def _first_into(edges: list[tuple]) -> np.ndarray:
    """Whether each edge (in the order they are followed) is the first into its target."""
    seen: set[int] = set()
    first = []
    for _, target, _ in edges:
        first.append(target not in seen)
        seen.add(target)
    return np.array(first, dtype=np.bool_)


def _end_state(children: list[dict[int, int]], state_of: list[int]) -> int:
    return next(state_of[node] for node, c in enumerate(children) if not c)


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _dominance(scores, edge_source, edge_target, edge_start, edge_links, edge_first, states, root, end, trie_start,
               trie_link, trie_child, trie_loop, loop_start, loop_links, path, dominant, total, first,
               last):  # pragma: no cover - compiled
    links, steps = scores.shape[0], scores.shape[2]
    weight = np.empty((links, BLOCK))
    largest = np.empty((states, BLOCK))
    summed = np.empty((states, BLOCK))
    count = np.empty((states, BLOCK))
    back = np.empty((states, BLOCK))
    product = np.empty(BLOCK)
    partial = np.empty(BLOCK)
    trail = np.empty(path, dtype=np.int64)
    for s in range(first, last):
        for k0 in range(0, steps, BLOCK):
            if k0 + BLOCK <= steps:  # a whole block: views of constant size, no index checks
                for r in range(links):
                    row, held = scores[r, s, k0:k0 + BLOCK], weight[r]
                    for j in range(BLOCK):
                        held[j] = abs(row[j])
            else:
                for r in range(links):
                    for j in range(BLOCK):
                        weight[r, j] = abs(scores[r, s, min(k0 + j, steps - 1)])
            largest[root, :] = 1.0
            summed[root, :] = 1.0
            count[root, :] = 1.0
            for e in range(edge_source.size):
                a, b = edge_source[e], edge_target[e]
                _along(weight, edge_links[edge_start[e]:edge_start[e + 1]], largest[a], summed[a], product, partial)
                _into(product, partial, count[a], largest[b], summed[b], count[b], back[b], float(e), edge_first[e])
            for j in range(min(BLOCK, steps - k0)):
                total[s, k0 + j] = summed[end, j]
                if not largest[end, j] > 0.0:
                    dominant[s, k0 + j] = -1
                elif count[end, j] == 1.0:
                    dominant[s, k0 + j] = _follow_back(back[:, j], end, root, edge_source, edge_start, edge_links,
                                                       trail, trie_start, trie_link, trie_child, trie_loop)
                else:
                    dominant[s, k0 + j] = _first_largest(scores, s, k0 + j, loop_start, loop_links)
    return 0


@nb.njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _along(weight, links, largest_a, summed_a, product, partial):  # pragma: no cover - compiled
    """The largest product and the sum of products into a, times the weights of ``links`` in turn."""
    first = links[0]
    for j in range(BLOCK):
        product[j] = largest_a[j] * weight[first, j]
        partial[j] = summed_a[j] * weight[first, j]
    for i in range(1, links.size):
        r = links[i]
        for j in range(BLOCK):
            product[j] *= weight[r, j]
            partial[j] *= weight[r, j]


@nb.njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _into(product, partial, count_a, largest_b, summed_b, count_b, back_b, e, first):  # pragma: no cover - compiled
    """Paths of largest product ``product`` (``count_a`` of them) and sum of products ``partial``
    arriving at b by edge ``e``; ``first``: b's values so far are those of no path."""
    if first:
        for j in range(BLOCK):
            largest_b[j] = -np.inf
            summed_b[j] = 0.0
            count_b[j] = 0.0
            back_b[j] = -1.0
    for j in range(BLOCK):
        x = product[j]
        summed_b[j] += partial[j]
        m = largest_b[j]
        ahead = x > m
        count_b[j] = select(ahead, count_a[j], count_b[j] + select(x == m, count_a[j], 0.0))
        largest_b[j] = select(ahead, x, m)
        back_b[j] = select(ahead, e, back_b[j])


@nb.njit(nogil=True, cache=True)
def _follow_back(back, end, root, edge_source, edge_start, edge_links, trail, trie_start, trie_link, trie_child,
                 trie_loop):  # pragma: no cover - compiled
    """The loop of the path ending at ``end`` that ``back`` records, found in the trie."""
    length = 0
    state = end
    while state != root:
        e = int(back[state])
        for c in range(edge_start[e + 1] - 1, edge_start[e] - 1, -1):
            trail[length] = edge_links[c]
            length += 1
        state = edge_source[e]
    node = 0
    for i in range(length - 1, -1, -1):
        link = trail[i]
        for c in range(trie_start[node], trie_start[node + 1]):
            if trie_link[c] == link:
                node = trie_child[c]
                break
    return trie_loop[node]


@nb.njit(nogil=True, cache=True)
def _first_largest(scores, s, k, loop_start, loop_links):  # pragma: no cover - compiled
    """The first loop (in the loops' order) with the largest absolute score at one point."""
    best = 0.0
    chosen = -1
    for i in range(loop_start.size - 1):
        product = 1.0
        for c in range(loop_start[i], loop_start[i + 1]):
            product *= scores[loop_links[c], s, k]
        if abs(product) > best:
            best = abs(product)
            chosen = i
    return chosen
