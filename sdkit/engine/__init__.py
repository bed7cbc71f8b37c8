"""Vectorised ensemble engine: compile a Vensim model into an N-sample kernel.

>>> from pathlib import Path
>>> import sdkit
>>> from sdkit.engine import compile_model
>>> from sdkit.model import load_model
>>> kernel = compile_model(load_model(Path(sdkit.__file__).parents[1] / "tests" / "data" / "decay.mdl"))
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
from sdkit.model import Model
from sdkit.model_file import parse_model_text, read_model

__all__ = ["Kernel", "SimulationResult", "compile_model"]


def compile_model(model: Model | str | Path, backend: str = "auto", text: str | None = None) -> Kernel:
    """Compile a model into a :class:`Kernel`.

    Parameters
    ----------
    model : Model, str or Path
        A loaded :class:`~sdkit.model.Model` (its parsed text is compiled; nothing is
        read or parsed again), or the path of a Vensim ``.mdl`` file, which is read and
        parsed by the same reader (:mod:`sdkit.model_file`) without the modelling
        checks of :func:`~sdkit.model.load_model`.
    backend : {"auto", "numpy", "numba"}
        ``"numpy"`` integrates every variable as an array over samples in one
        Python time loop; ``"numba"`` runs a compiled loop over samples and
        steps (cached on disk); ``"auto"`` uses numpy below 64 samples and
        numba from 64 samples on (numpy meanwhile when the numba compile takes
        longer than :data:`sdkit.engine.background.COMPILE_BUDGET_S`).
    text : str, optional
        With a path, the model's checked text (:func:`sdkit.model_file.read_model`);
        read from the path when not given. The path then only names the model and its folder.

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
    if isinstance(model, Model):
        if model.translation is not None:  # translated by the load, for its time settings
            return Kernel(model.translation, model.text, backend=backend)
        path, text, abstract_model = model.path, model.text, model.abstract_model
    else:
        path = Path(model)
        if text is None:
            read = read_model(path)
            text, abstract_model = read.text, read.abstract_model
        else:
            abstract_model = parse_model_text(path, text)
    return Kernel(translate(path, text, abstract_model), text, backend=backend)
