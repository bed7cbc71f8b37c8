"""One exception base class for sdkit, and the warning class it emits."""

from __future__ import annotations


class SdkitError(Exception):
    """Base class of every error sdkit raises on bad input or a failed run.

    The message is one line that names the offending thing and the fix.
    """


class ModelFileError(SdkitError):
    """A model file is missing, unreadable, malformed or unsafe."""


class ScenarioError(SdkitError):
    """A scenario file or scenario name is wrong."""


class ParameterError(SdkitError):
    """An unknown parameter name or a bad parameter value."""


class CheckError(SdkitError):
    """A reference-mode check file is malformed."""


class LoopError(SdkitError):
    """A loops file (``MODEL.loops.toml``) is malformed or names a loop the model lacks."""


class UnitsError(SdkitError):
    """A units field that does not parse."""


class UnsupportedFeature(SdkitError):
    """The ensemble engine cannot compile a function or construct in a model."""


class NonFiniteError(SdkitError):
    """A simulation produced NaN or infinity.

    ``variable``, ``sample`` and ``time`` say where, when the simulation knows (else None);
    callers renumber or annotate with them, never by parsing the message.
    """

    variable: str | None = None
    sample: int | None = None
    time: float | None = None

    @classmethod
    def at(cls, variable: str | None, sample: int, time: float | None, run: str | None = None) -> NonFiniteError:
        """The error for ``variable`` turning non-finite in ``sample`` at ``time`` (None: not known).

        ``run`` names the run in the message instead of its sample number, e.g. ``scenario 'fast'``.
        """
        who = f"variable '{variable}'" if variable else "a variable"
        when = f"at time {time}" if time is not None else "at an unknown time"
        error = cls(f"{who} became NaN or infinite {when} in {run or f'sample {sample}'}; check divisions, "
                    "LN/SQRT arguments and parameter ranges")
        error.variable, error.sample, error.time = variable, sample, time
        return error


class OutputError(SdkitError):
    """An output path cannot be written."""


class PlotError(SdkitError):
    """Data handed to a plotting function lack what the figure needs, or a style is unknown."""


class SdkitWarning(UserWarning):
    """Warnings emitted by sdkit (engine fallback, suspicious settings)."""
