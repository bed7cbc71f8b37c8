"""sdkit: system-dynamics models of international order."""

from sdkit.errors import SdkitError, SdkitWarning

__version__ = "0.1.0"

__all__ = ["SdkitError", "SdkitWarning", "__version__"]
