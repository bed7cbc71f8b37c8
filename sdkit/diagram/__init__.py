"""Diagrams of a model's structure: a causal-loop / stock-and-flow drawing laid out by
graphviz (:mod:`sdkit.diagram.draw`), and Vensim's sketch written into the model file
(:mod:`sdkit.diagram.sketch`). ``sdkit diagram`` is :mod:`sdkit.diagram.cli`."""
