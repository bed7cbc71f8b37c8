"""Sensitivity analysis of a model's parameters: definition -> sample -> evaluate -> analyse.

A study is a TOML file (see :mod:`sdkit.sensitivity.spec`); :func:`run_study` draws the
SALib sample, runs the model for every row (vectorised engine, chunked and resumable),
reduces trajectories to outputs (:mod:`sdkit.sensitivity.metrics`) and returns indices as
``xarray`` datasets with dims ``(output, param)`` and SALib's names.
"""

from sdkit.sensitivity.analyse import analyse, analyse_outputs, index_problems
from sdkit.sensitivity.convergence import convergence, verdicts
from sdkit.sensitivity.metrics import compute_metric, compute_outputs
from sdkit.sensitivity.pipeline import (
    FunctionModel,
    SweepResult,
    analyse_study,
    evaluate,
    load_study_model,
    plan,
    run_study,
)
from sdkit.sensitivity.sample import sample, sample_frame
from sdkit.sensitivity.spec import (
    METHODS,
    METRICS,
    OutputSpec,
    ParameterSpec,
    Study,
    StudyError,
    check_against_model,
    n_runs,
    problem,
    read_study,
    study_from_dict,
)

__all__ = [
    "METHODS",
    "METRICS",
    "FunctionModel",
    "OutputSpec",
    "ParameterSpec",
    "Study",
    "StudyError",
    "SweepResult",
    "analyse",
    "analyse_outputs",
    "analyse_study",
    "check_against_model",
    "compute_metric",
    "compute_outputs",
    "convergence",
    "evaluate",
    "index_problems",
    "load_study_model",
    "n_runs",
    "plan",
    "problem",
    "read_study",
    "run_study",
    "sample",
    "sample_frame",
    "study_from_dict",
    "verdicts",
]
