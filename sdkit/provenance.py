"""What produced a result: recorded in every dataset sdkit writes."""

from __future__ import annotations

import json
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

_PACKAGES = ("sdkit", "pysd", "numpy", "xarray", "SALib", "numba")


def versions() -> dict[str, str]:
    """Installed versions of sdkit and the packages that decide its numbers."""
    return dict(_installed_versions())


@cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    """Read once per process: the installed packages do not change while it runs."""
    found = {}
    for package in _PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return tuple(found.items())


def provenance_attrs(model: Any, **extra: Any) -> dict[str, str]:
    """netCDF-ready attributes: model file (as given and resolved), its SHA-256, the
    scenarios file the scenarios came from (when there is one), versions, and ``extra`` as JSON."""
    attrs = {
        "model_file": str(model.path),
        "model_path": str(Path(model.path).resolve()),
        "model_sha256": model.sha256,
        **{f"{name}_version": value for name, value in versions().items()},
    }
    if getattr(model, "scenarios", None) and getattr(model, "scenarios_file", None):
        attrs["scenarios_file"] = str(model.scenarios_file)
    for key, value in extra.items():
        attrs[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=_jsonable)
    return attrs


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot record {type(value).__name__} in provenance")
