"""Vensim's RANDOM functions that sdkit runs (the engine draws them: :mod:`sdkit.engine.vrandom`).

PySD's builder has RANDOM 0 1, UNIFORM, NORMAL and EXPONENTIAL; the engine also has
TRIANGULAR. Kept outside :mod:`sdkit.engine` so that checking a model does not import
the engine.
"""

#: Vensim function (PySD's name) -> (the engine's draw, arguments before the stream argument)
RANDOM_FUNCTIONS = {
    "random_0_1": ("random_uniform", 0),
    "random_uniform": ("random_uniform", 2),
    "random_normal": ("random_normal", 4),
    "random_exponential": ("random_exponential", 4),
    "random_triangular": ("random_triangular", 5),
}
