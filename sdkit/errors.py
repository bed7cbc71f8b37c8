"""One exception base class for sdkit, and the warning class it emits."""


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


class UnsupportedFeature(SdkitError):
    """The ensemble engine cannot compile a function or construct in a model."""


class NonFiniteError(SdkitError):
    """A simulation produced NaN or infinity."""


class OutputError(SdkitError):
    """An output path cannot be written."""


class PlotError(SdkitError):
    """Data handed to a plotting function lack what the figure needs, or a style is unknown."""


class SdkitWarning(UserWarning):
    """Warnings emitted by sdkit (engine fallback, suspicious settings)."""
