"""Feedback loops of a model: its causal graph, link signs, loops, polarity and names.

``find_loops(model)`` is the entry point; ``sdkit loops MODEL`` prints what it finds.
See docs/loops.md for the rules.
"""

from sdkit.loops.find import LoopReport, find_loops
from sdkit.loops.graph import Link, dependency_graph, links
from sdkit.loops.loop import Loop

__all__ = ["Link", "Loop", "LoopReport", "dependency_graph", "find_loops", "links"]
