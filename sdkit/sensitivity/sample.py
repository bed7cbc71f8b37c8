"""Draw the parameter sample a study's method needs (SALib samplers, seeded).

Each method's record in :mod:`sdkit.sensitivity.methods` pairs one sampler with its
analyser: ``sobol`` uses Saltelli's scheme on a scrambled Sobol' sequence, ``morris``
Morris trajectories, ``efast`` the FAST sampler, ``pawn`` and ``delta`` a Latin hypercube.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdkit.sensitivity.methods import METHODS
from sdkit.sensitivity.spec import Study, n_runs, problem

__all__ = ["sample", "sample_frame"]


def sample(study: Study, samples: int | None = None) -> np.ndarray:
    """Draw the sample matrix of a study.

    Parameters
    ----------
    study : Study
    samples : int, optional
        Base sample size; default ``study.samples``.

    Returns
    -------
    numpy.ndarray
        Shape ``(runs, n_params)``; ``runs`` is :func:`~sdkit.sensitivity.spec.n_runs`.
        The same study and seed always give the same matrix.
    """
    n = study.samples if samples is None else samples
    options = study.options
    x = METHODS[study.method].draw(problem(study), n, options, study.seed)
    x = np.ascontiguousarray(x, dtype=float)
    expected = n_runs(study.method, n, len(study.parameters), options)
    if x.shape != (expected, len(study.parameters)):  # SALib changed its layout: never analyse garbage
        raise RuntimeError(f"SALib returned a {x.shape} sample for {study.method}, expected ({expected}, "
                           f"{len(study.parameters)}); check the SALib version")
    return x


def sample_frame(study: Study, x: np.ndarray) -> pd.DataFrame:
    """The sample as a table: one column per parameter (model names), one row per run."""
    return pd.DataFrame(x, columns=study.parameter_names)
