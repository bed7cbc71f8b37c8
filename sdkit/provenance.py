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
    kernel = getattr(model, "__dict__", {}).get("kernel")  # compiled already when the engine ran
    if getattr(kernel, "random", False):
        from sdkit.engine.kernel import RANDOM_SEED

        attrs["random_seed"] = str(RANDOM_SEED)  # the engine's RANDOM draws: sdkit.engine.vrandom
        attrs["random_streams"] = "one per sample number, RANDOM call and time step"
    time = getattr(model, "time", None)
    if time is not None and time.varying:  # the run's grid is not uniform: read from the equations every step
        from sdkit.names import vensim_name

        attrs["time_varying"] = ", ".join(vensim_name(key) for key in time.varying)
    if getattr(model, "reader", "pysd") != "pysd":  # PySD's parser reads every other file
        attrs["model_reader"] = model.reader
    data = _data_file_hashes(model)
    if data:
        attrs["data_files_sha256"] = json.dumps(data, sort_keys=True)
    if getattr(model, "scenarios", None) and getattr(model, "scenarios_file", None):
        attrs["scenarios_file"] = str(model.scenarios_file)
    for key, value in extra.items():
        attrs[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=_jsonable)
    return attrs


def _data_file_hashes(model: Any) -> dict[str, str]:
    """File name -> SHA-256 of every data file the model reads (GET XLS/DIRECT ...), beside it."""
    from sdkit.model_file import sha256_of

    folder = Path(model.path).parent
    return {name: sha256_of(folder / name) for name in model.data_file_names if (folder / name).is_file()}


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot record {type(value).__name__} in provenance")
