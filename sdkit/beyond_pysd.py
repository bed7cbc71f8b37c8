"""Vensim functions the engine runs that PySD's builder does not (or not all of them).

The RANDOM functions (PySD's builder has RANDOM 0 1, UNIFORM, NORMAL and EXPONENTIAL;
the engine also TRIANGULAR and POISSON; the draws: :mod:`sdkit.engine.vrandom`), DELAY MATERIAL
with a constant delay time and SINTEG with min and max. Kept outside :mod:`sdkit.engine`
so that checking a model does not import the engine.
"""

#: Vensim function (PySD's name) -> (the engine's draw, arguments before the stream argument)
RANDOM_FUNCTIONS = {
    "random_0_1": ("random_uniform", 0),
    "random_uniform": ("random_uniform", 2),
    "random_normal": ("random_normal", 4),
    "random_exponential": ("random_exponential", 4),
    "random_triangular": ("random_triangular", 5),
    "random_poisson": ("random_poisson", 5),
}
#: functions with a state (like INTEG, they break algebraic loops)
STATEFUL_FUNCTIONS = frozenset({"delay_material", "sinteg"})
#: every function a model may call beyond PySD's builder (PySD's names)
ENGINE_FUNCTIONS = frozenset(RANDOM_FUNCTIONS) | STATEFUL_FUNCTIONS
