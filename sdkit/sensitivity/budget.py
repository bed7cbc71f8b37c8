"""What a sweep will cost before it starts: planned runs and memory, against limits.

A study of 2^24 samples or 10^9 Morris trajectories is a typing slip more often than a
plan; it would allocate its sample and then run for days. :func:`check_budget` refuses
such a study before anything is drawn or run, with the estimate and the option that
raises the limit (``--max-runs``, ``--max-memory``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sdkit.errors import ParameterError
from sdkit.sensitivity.methods import METHODS
from sdkit.sensitivity.spec import Study, n_runs

__all__ = ["DEFAULT_MAX_RUNS", "Limits", "check_budget", "estimate", "physical_memory"]

#: Planned model runs a sweep may have without ``--max-runs``.
DEFAULT_MAX_RUNS = 50_000_000
#: Share of this machine's memory a sweep may plan to use without ``--max-memory``.
MEMORY_SHARE = 0.8
_BYTES = 8  # float64


def physical_memory() -> int:
    """Bytes of memory on this machine."""
    import psutil

    return int(psutil.virtual_memory().total)


@dataclass(frozen=True)
class Limits:
    """Largest sweep to accept: runs, and memory in bytes (None: 80 % of this machine's)."""

    max_runs: int = DEFAULT_MAX_RUNS
    max_memory: float | None = None

    def memory(self) -> float:
        return self.max_memory if self.max_memory is not None else MEMORY_SHARE * physical_memory()


def estimate(study: Study, saved_times: int) -> dict[str, Any]:
    """Planned runs and peak memory (bytes) of a study whose runs save ``saved_times`` times.

    Memory counts the sample (four copies at its peak: SALib's draw, the matrix, the
    sample table and the chunk store's copy), the trajectories of the scored variables of
    every run (four copies at the peak of evaluation: the chunks, their concatenation and
    the selections the metrics take), the scored outputs, and the analyser's bootstrap
    (the method's ``bootstrap_copies``). ``benchmarks/sweep_memory.py`` sets the estimate
    beside the measured peak.
    """
    runs = n_runs(study.method, study.samples, len(study.parameters), study.options)
    variables = len({o.variable for o in study.outputs})
    resamples = int(study.options.get("num_resamples", 0))
    parts = {
        "sample": 4 * runs * len(study.parameters) * _BYTES,
        "trajectories": 4 * runs * variables * saved_times * _BYTES,
        "outputs": runs * (len(study.scalar_outputs) + len(study.series_outputs) * saved_times) * _BYTES,
        "bootstrap": METHODS[study.method].bootstrap_copies * study.samples * resamples * _BYTES,
    }
    return {"runs": runs, "memory": sum(parts.values()), "parts": parts}


_REMEDY = {"sample": "lower samples", "trajectories": "lower samples or thin series outputs with step",
           "outputs": "lower samples or thin series outputs with step",
           "bootstrap": "lower samples or num_resamples"}


def _size(n_bytes: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes / 1e3:.1f} kB"


def check_budget(study: Study, saved_times: int, limits: Limits | None = None) -> dict[str, Any]:
    """Refuse a study whose planned runs or memory exceed ``limits``; returns :func:`estimate`.

    Raises
    ------
    ParameterError
        One line with the estimate, the limit and the option that raises it.
    """
    limits = limits or Limits()
    cost = estimate(study, saved_times)
    what = f"study {study.name} ({study.method}, samples = {study.samples}, {len(study.parameters)} parameters)"
    if cost["runs"] > limits.max_runs:
        raise ParameterError(f"{what} plans {cost['runs']:,} runs, above the limit of {limits.max_runs:,}; "
                             f"lower samples, or raise the limit with --max-runs {cost['runs']}")
    allowed = limits.memory()
    if cost["memory"] > allowed:
        largest = max(cost["parts"], key=cost["parts"].get)
        needed = -(-cost["memory"] // 1e9)
        raise ParameterError(f"{what} needs about {_size(cost['memory'])} of memory (mostly the {largest}), "
                             f"above the limit of {_size(allowed)}; {_REMEDY[largest]}, or raise the limit "
                             f"with --max-memory {needed:.0f} (GB)")
    return cost
