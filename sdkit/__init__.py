"""sdkit: system-dynamics models of international order.

The flow reads left to right: model file -> :func:`load_model` -> :func:`run`
(scenarios), :func:`compare` (the same scenarios of several models) or :func:`ensemble`
(one run per row of parameter sets) -> ``xarray.Dataset`` -> :func:`summarise`, checks
and figures.
"""

from sdkit.compare import compare
from sdkit.ensemble import ensemble
from sdkit.errors import SdkitError, SdkitWarning
from sdkit.model import Model, load_model
from sdkit.run import run
from sdkit.summary import summarise

__version__ = "0.1.0"

__all__ = [
    "Model", "SdkitError", "SdkitWarning", "__version__", "compare", "ensemble", "load_model", "run", "summarise",
]
