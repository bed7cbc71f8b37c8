"""The sweep methods: one record per method, everything sdkit knows about it in one place.

A :class:`Method` holds the SALib sampler and analyser, the number of runs a base sample
size needs, the sizes it accepts, its options (default and valid range), the names of
the indices it returns and the index that ranks parameters. Adding a method is adding
one record to :data:`METHODS`; the study reader, the sampler, the analysis, the
convergence check, the provenance and the command line all read it from there.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["METHODS", "Method", "Option"]

log = logging.getLogger(__name__)

Problem = dict[str, Any]
Options = dict[str, Any]


@dataclass(frozen=True)
class Option:
    """One method option: its default (whose type the value must have) and its valid range.

    ``valid(value)`` is true for a usable value; ``rule`` states the valid range in words.
    """

    default: bool | int | float
    valid: Callable[[Any], bool] = lambda value: True
    rule: str = ""

    def problem(self, name: str, value: Any) -> str | None:
        """Why ``value`` is not usable for this option (one clause), or None."""
        kind = type(self.default)
        if type(value) is not kind and not (kind is float and type(value) is int):
            return f"option {name} must be {_KIND[kind]}, got {value!r}"
        if not self.valid(value):
            return f"option {name} = {value!r} is out of range; it must be {self.rule}"
        return None


_KIND = {bool: "true or false", int: "an integer", float: "a number"}


@dataclass(frozen=True)
class Method:
    """Everything one sensitivity method needs, from sample to ranking.

    Attributes
    ----------
    name : str
        As written in study files (``method = "sobol"``).
    sampler : str
        The SALib sampler, as recorded in the provenance of every file.
    draw : callable
        ``draw(problem, samples, options, seed)`` returns the sample matrix.
    analyser : callable
        ``analyser(problem, x, y, options, seed)`` returns SALib's result for one output.
    runs : callable
        ``runs(samples, n_params, options)``: model runs for base size ``samples``.
    sizes : callable
        ``sizes(options)``: the smallest usable base size and the rule in words.
    options : dict of str to Option
    indices : dict of str to str
        The indices returned, in SALib's names, with a description of each.
    ranking : str
        The index parameters are ranked by.
    quick_samples : int
        The base size ``sdkit reproduce --quick`` cuts a study of this method to: small, but
        usable with the default options.
    output_units : bool
        The indices carry the output's units (Morris' elementary effects) instead of being
        fractions of variance or distances between distributions.
    extra_indices : callable
        ``extra_indices(options)``: indices some options add (Sobol's ``S2``), described.
    size_ok : callable
        ``size_ok(n, options)``: a rule beyond the smallest size (Sobol: a power of 2).
    min_parameters : int
        Fewest varied parameters the method works with.
    uniform_only : bool
        Every parameter must be a uniform range (Morris' grid).
    convergence : (str, bool), optional
        The index whose interval decides convergence, and whether its half-width is
        taken relative to the largest index; None when convergence is not computed.
    reserved_suffixes : tuple of str
        Name endings SALib's analyser reserves for its own columns (refused as parameters).
    bootstrap_copies : float
        Peak memory of the analyser's bootstrap in arrays of ``samples x num_resamples``
        float64 values (measured by ``benchmarks/sweep_memory.py``); 0 when negligible.
    """

    name: str
    sampler: str
    draw: Callable[[Problem, int, Options, int], np.ndarray]
    analyser: Callable[[Problem, np.ndarray, np.ndarray, Options, int], dict[str, Any]]
    runs: Callable[[int, int, Options], int]
    sizes: Callable[[Options], tuple[int, str]]
    options: dict[str, Option]
    indices: dict[str, str]
    ranking: str
    quick_samples: int
    extra_indices: Callable[[Options], dict[str, str]] = lambda options: {}
    size_ok: Callable[[int, Options], bool] = lambda n, options: True
    min_parameters: int = 1
    uniform_only: bool = False
    convergence: tuple[str, bool] | None = None
    output_units: bool = False
    reserved_suffixes: tuple[str, ...] = ()
    bootstrap_copies: float = 0.0

    def defaults(self) -> Options:
        return {key: option.default for key, option in self.options.items()}

    def index_names(self, options: Options) -> dict[str, str]:
        """The indices returned with these options and their descriptions (Sobol adds ``S2``)."""
        return {**self.indices, **self.extra_indices(options)}

    def smallest(self, options: Options) -> int:
        """The smallest usable base sample size with these options."""
        return self.sizes(options)[0]

    def size_problem(self, n: int, options: Options) -> str | None:
        """The valid sizes in words when ``n`` is not usable, else None."""
        smallest, rule = self.sizes(options)
        return None if n >= smallest and self.size_ok(n, options) else rule

    def option_problem(self, options: Options) -> str | None:
        """The first option whose value is not usable, as one clause, or None."""
        for key, option in self.options.items():
            found = option.problem(key, options[key])
            if found:
                return found
        return None


def _quiet_salib(call: Callable[[], Any]) -> Any:
    """Run a SALib call, silencing its warnings about sizes the study file has validated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return call()


# --- option ranges shared by several methods -----------------------------------------------

_RESAMPLES = Option(200, lambda v: 2 <= v <= 100_000,
                    "an integer from 2 to 100000 (a bootstrap interval needs at least two resamples)")
_CONF = Option(0.95, lambda v: 0 < v < 1, "strictly between 0 and 1, e.g. 0.95")


# --- sobol ----------------------------------------------------------------------------------

_SOBOL_INDICES = {"S1": "first-order Sobol index", "S1_conf": "half-width of the S1 confidence interval",
                  "ST": "total-order Sobol index", "ST_conf": "half-width of the ST confidence interval"}
_SECOND_ORDER = {"S2": "second-order Sobol index", "S2_conf": "half-width of the S2 confidence interval"}


def _sobol_draw(problem: Problem, n: int, options: Options, seed: int) -> np.ndarray:
    from SALib.sample import sobol as saltelli

    return _quiet_salib(lambda: saltelli.sample(problem, n, calc_second_order=options["calc_second_order"],
                                                scramble=options["scramble"], seed=seed))


def _sobol_analyse(problem: Problem, x: np.ndarray, y: np.ndarray, options: Options, seed: int) -> dict:
    from SALib.analyze import sobol

    return sobol.analyze(problem, y, calc_second_order=options["calc_second_order"],
                         num_resamples=options["num_resamples"], conf_level=options["conf_level"], seed=seed)


SOBOL = Method(
    name="sobol",
    sampler="SALib.sample.sobol (Saltelli scheme, scrambled Sobol' sequence)",
    draw=_sobol_draw,
    analyser=_sobol_analyse,
    runs=lambda n, d, options: n * (2 * d + 2 if options["calc_second_order"] else d + 2),
    sizes=lambda options: (2, "a power of 2 (e.g. 256, 512, 1024)"),
    size_ok=lambda n, options: n & (n - 1) == 0,
    options={"calc_second_order": Option(False), "num_resamples": _RESAMPLES, "conf_level": _CONF,
             "scramble": Option(True)},
    indices=_SOBOL_INDICES,
    extra_indices=lambda options: _SECOND_ORDER if options.get("calc_second_order") else {},
    ranking="ST",
    quick_samples=128,
    min_parameters=2,
    convergence=("ST", False),
    bootstrap_copies=8,
)


# --- morris ---------------------------------------------------------------------------------

def _morris_draw(problem: Problem, n: int, options: Options, seed: int) -> np.ndarray:
    from SALib.sample import morris

    return _quiet_salib(lambda: morris.sample(problem, n, num_levels=options["num_levels"], seed=seed))


def _morris_analyse(problem: Problem, x: np.ndarray, y: np.ndarray, options: Options, seed: int) -> dict:
    from SALib.analyze import morris

    return morris.analyze(problem, x, y, num_resamples=options["num_resamples"], conf_level=options["conf_level"],
                          num_levels=options["num_levels"], seed=seed)


MORRIS = Method(
    name="morris",
    sampler="SALib.sample.morris",
    draw=_morris_draw,
    analyser=_morris_analyse,
    runs=lambda n, d, options: n * (d + 1),
    sizes=lambda options: (2, "at least 2"),
    options={"num_levels": Option(4, lambda v: 2 <= v <= 1000 and v % 2 == 0, "even, from 2 to 1000"),
             "num_resamples": _RESAMPLES, "conf_level": _CONF},
    indices={"mu": "mean elementary effect", "mu_star": "mean absolute elementary effect",
             "mu_star_conf": "half-width of the mu_star confidence interval",
             "sigma": "standard deviation of the elementary effects"},
    ranking="mu_star",
    quick_samples=16,
    min_parameters=2,
    uniform_only=True,
    convergence=("mu_star", True),
    output_units=True,
    bootstrap_copies=3,
)


# --- efast ----------------------------------------------------------------------------------

def _efast_draw(problem: Problem, n: int, options: Options, seed: int) -> np.ndarray:
    from SALib.sample import fast_sampler

    return _quiet_salib(lambda: fast_sampler.sample(problem, n, M=options["M"], seed=seed))


def _efast_analyse(problem: Problem, x: np.ndarray, y: np.ndarray, options: Options, seed: int) -> dict:
    from SALib.analyze import fast

    with warnings.catch_warnings():  # SALib notes that its bootstrap intervals are indicative only (documented)
        warnings.filterwarnings("ignore", message="FAST confidence intervals", category=UserWarning)
        return fast.analyze(problem, y, M=options["M"], num_resamples=options["num_resamples"],
                            conf_level=options["conf_level"], seed=seed)


def _efast_sizes(options: Options) -> tuple[int, str]:
    m = options["M"]
    return 4 * m * m + 1, f"above 4*M^2 ({4 * m * m + 1} or more with M = {m})"


EFAST = Method(
    name="efast",
    sampler="SALib.sample.fast_sampler",
    draw=_efast_draw,
    analyser=_efast_analyse,
    runs=lambda n, d, options: n * d,
    sizes=_efast_sizes,
    options={"M": Option(4, lambda v: 1 <= v <= 100, "an integer from 1 to 100 (the interference factor; 4 is usual)"),
             "num_resamples": _RESAMPLES, "conf_level": _CONF},
    indices=_SOBOL_INDICES,
    ranking="ST",
    quick_samples=129,
    min_parameters=2,
)


# --- pawn and delta (Latin hypercube) -------------------------------------------------------

def _latin_draw(problem: Problem, n: int, options: Options, seed: int) -> np.ndarray:
    from SALib.sample import latin

    return _quiet_salib(lambda: latin.sample(problem, n, seed=seed))


def _on_latin_hypercube(**fields: Any) -> Method:
    """A method that analyses ``n`` runs at the points of a Latin hypercube of size ``n``."""
    return Method(sampler="SALib.sample.latin", draw=_latin_draw, runs=lambda n, d, options: n, **fields)


def _pawn_analyse(problem: Problem, x: np.ndarray, y: np.ndarray, options: Options, seed: int) -> dict:
    from SALib.analyze import pawn

    return pawn.analyze(problem, x, y, S=options["S"], seed=seed)


def _pawn_sizes(options: Options) -> tuple[int, str]:
    smallest = max(20, 2 * options["S"])
    return smallest, f"at least {smallest} (20, and two runs per slide: 2*S)"


PAWN = _on_latin_hypercube(
    name="pawn",
    analyser=_pawn_analyse,
    sizes=_pawn_sizes,
    options={"S": Option(10, lambda v: 2 <= v <= 1000, "an integer from 2 to 1000 (the number of slides)")},
    indices={"minimum": "PAWN index (minimum KS statistic)", "mean": "PAWN index (mean KS statistic)",
             "median": "PAWN index (median KS statistic)", "maximum": "PAWN index (maximum KS statistic)",
             "CV": "coefficient of variation of the KS statistics"},
    ranking="median",
    quick_samples=256,
)


def _delta_analyse(problem: Problem, x: np.ndarray, y: np.ndarray, options: Options, seed: int) -> dict:
    from SALib.analyze import delta

    with contextlib.redirect_stdout(io.StringIO()) as printed:  # SALib prints bias notices
        r = delta.analyze(problem, x, y, num_resamples=options["num_resamples"],
                          conf_level=options["conf_level"], seed=seed)
    if printed.getvalue().strip():
        log.info("SALib delta: %s", " ".join(printed.getvalue().split()))
    return {**r, "delta": r["delta_raw"], "delta_conf": r["delta_raw_conf"]}


DELTA = _on_latin_hypercube(
    name="delta",
    analyser=_delta_analyse,
    sizes=lambda options: (20, "at least 20"),
    options={"num_resamples": Option(100, _RESAMPLES.valid, _RESAMPLES.rule), "conf_level": _CONF},
    indices={"delta": "Borgonovo delta moment-independent index",
             "delta_conf": "half-width of the delta confidence interval",
             "S1": _SOBOL_INDICES["S1"], "S1_conf": _SOBOL_INDICES["S1_conf"]},
    ranking="delta",
    quick_samples=256,
    reserved_suffixes=("_raw", "_balanced", "_step", "_conf"),
    bootstrap_copies=3,
)


#: Every method sdkit runs, by the name study files use.
METHODS: dict[str, Method] = {m.name: m for m in (SOBOL, MORRIS, EFAST, PAWN, DELTA)}

