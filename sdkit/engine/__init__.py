"""Vectorised ensemble engine: compile a Vensim model into an N-sample kernel.

>>> from pathlib import Path
>>> import sdkit
>>> from sdkit.engine import compile_model
>>> kernel = compile_model(Path(sdkit.__file__).parents[1] / "tests" / "data" / "decay.mdl")
>>> result = kernel.simulate({"decay_time": [5.0, 20.0]}, n=2, variables=["stock"], save="final")
>>> result.times
array([20.])
>>> bool(result.data["stock"][0] < result.data["stock"][1])  # the slower decay keeps more
True
"""

from __future__ import annotations

from pathlib import Path

from sdkit.engine.kernel import Kernel, SimulationResult
from sdkit.engine.translate import translate

__all__ = ["Kernel", "SimulationResult", "compile_model"]


def compile_model(path: str | Path, backend: str = "auto", text: str | None = None) -> Kernel:
    """Compile the Vensim model at ``path`` into a :class:`Kernel`.

    Parameters
    ----------
    path : str or Path
        A Vensim ``.mdl`` file.
    backend : {"auto", "numpy", "numba"}
        ``"numpy"`` integrates every variable as an array over samples in one
        Python time loop; ``"numba"`` runs a compiled loop over samples and
        steps (cached on disk); ``"auto"`` uses numpy below 64 samples and
        numba from 64 samples on.
    text : str, optional
        The model's checked text (:func:`sdkit.model.read_model_text`); read from
        ``path`` when not given. ``path`` then only names the model and its folder.

    Returns
    -------
    Kernel

    Raises
    ------
    sdkit.errors.ModelFileError
        The file is missing or cannot be parsed, or has an algebraic loop.
    sdkit.errors.UnsupportedFeature
        The model uses a function the engine cannot compile (the message
        names it and the variable); run such models with ``engine="pysd"``.
    """
    from sdkit.model import read_model_text

    path = Path(path)
    if text is None:
        _, text = read_model_text(path)
    return Kernel(translate(path, text), text, backend=backend)
