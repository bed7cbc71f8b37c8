"""The simulation backends behind :func:`sdkit.simulate.simulate`: one module per backend.

A backend is an object with ``name``, ``vectorised`` (True when one call runs many rows
at once, as the engine does) and ``run(model, runs, time, variables, save) -> (times,
data)``, where ``data`` maps each variable to ``(runs, times, *subscripts)`` values
(``(runs, *subscripts)`` for ``save="final"``). A non-finite value raises
:class:`~sdkit.errors.NonFiniteError` with ``.sample`` the row of ``runs``.
"""

from __future__ import annotations

from sdkit.backends.engine import EngineBackend
from sdkit.backends.pysd import PysdBackend

BACKENDS = {backend.name: backend for backend in (EngineBackend(), PysdBackend())}

__all__ = ["BACKENDS", "EngineBackend", "PysdBackend"]
