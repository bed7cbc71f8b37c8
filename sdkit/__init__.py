"""sdkit: system-dynamics models of international order.

The flow reads left to right: model file -> :func:`load_model` -> :func:`run`
(scenarios), :func:`compare` (the same scenarios of several models) or :func:`ensemble`
(one run per row of parameter sets) -> ``xarray.Dataset`` -> :func:`summarise`, checks
and figures.

The decay model of the tests (a stock of 100 drained with a residence time of 10):

>>> from pathlib import Path
>>> import pandas as pd
>>> import sdkit
>>> decay = sdkit.load_model(Path(sdkit.__file__).parents[1] / "tests" / "data" / "decay.mdl")
>>> baseline = sdkit.run(decay)
>>> baseline["stock"].dims
('scenario', 'time')
>>> round(float(baseline["stock"].sel(time=20).item()) / 100, 2)  # about exp(-2), in Euler steps of 0.125
0.13
>>> runs = sdkit.ensemble(decay, pd.DataFrame({"decay time": [5.0, 10.0, 20.0]}))
>>> bool((runs["stock"].isel(time=-1).diff("sample") > 0).all())  # a longer residence keeps more
True
>>> median = sdkit.summarise(runs, quantiles=[0.5])["stock"].sel(time=20).item()
>>> median == baseline["stock"].sel(time=20).item()  # the median sample is the default decay time
True
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
