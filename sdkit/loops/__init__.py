"""Feedback loops of a model: its causal graph, link signs, loops, polarity, names and dominance.

``find_loops(model)`` lists the loops; ``score_scenario(model, scenario)`` scores them
in a run (Loops That Matter); ``sdkit loops MODEL`` prints both. See docs/loops.md.
"""

from sdkit.loops.dominance import link_scores, loop_scores, score_scenario
from sdkit.loops.find import LoopReport, find_loops
from sdkit.loops.graph import Link, dependency_graph, links
from sdkit.loops.loop import Loop

__all__ = ["Link", "Loop", "LoopReport", "dependency_graph", "find_loops", "link_scores", "links",
           "loop_scores", "score_scenario"]
