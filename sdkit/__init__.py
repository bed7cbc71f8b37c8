"""sdkit: system-dynamics models of international order.

The flow reads left to right: model file -> :func:`load_model` -> :func:`run`
(scenarios) -> ``xarray.Dataset`` -> checks and figures.
"""

from sdkit.errors import SdkitError, SdkitWarning
from sdkit.model import Model, load_model
from sdkit.run import run

__version__ = "0.1.0"

__all__ = ["Model", "SdkitError", "SdkitWarning", "__version__", "load_model", "run"]
