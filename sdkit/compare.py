"""Run several models (a baseline and its variants) on the same scenarios, side by side.

:func:`compare` returns one :class:`xarray.Dataset` with a ``model`` dimension. Each
model's provenance stays with it: the ``model_file``, ``model_path``, ``model_sha256``
and ``scenarios_file`` coordinates along ``model``, and the whole record of each run
(engine, scenarios and the values they set) in the ``models`` attribute, a JSON
object keyed by model label. The dataset's own attributes hold only what the runs
share (the package versions), so no single model's provenance can stand for all of
them, as it does after a plain ``xr.concat``.

The decay model of the tests and a variant whose widgets stay twice as long:

>>> import tempfile
>>> from pathlib import Path
>>> import sdkit
>>> data = Path(sdkit.__file__).parents[1] / "tests" / "data"
>>> folder = tempfile.TemporaryDirectory()
>>> variant = Path(folder.name) / "slower.mdl"
>>> _ = variant.write_text((data / "decay.mdl").read_text().replace("decay time = 10", "decay time = 20"))
>>> ds = compare([data / "decay.mdl", variant])
>>> ds["stock"].dims
('model', 'scenario', 'time')
>>> [round(v, 1) for v in ds["stock"].sel(time=20, scenario="default").values.tolist()]  # 100 (1 - 0.125 / T)^160
[13.4, 36.7]
>>> model_provenance(ds)["slower"]["model_sha256"] == sdkit.load_model(variant).sha256
True
>>> "model_sha256" in ds.attrs  # no one model's provenance stands for both
False
>>> folder.cleanup()
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sdkit.errors import ParameterError
from sdkit.model import Model, load_model
from sdkit.run import overrides_argument, run

__all__ = ["PER_MODEL", "compare", "model_provenance"]

#: Provenance attributes that belong to one model; stored per model, never at the top.
PER_MODEL = ("model_file", "model_path", "model_sha256", "scenarios_file")

Models = Sequence[Model | str | Path] | Mapping[str, Model | str | Path]


def compare(
    models: Models,
    scenarios: Sequence[str] | None = None,
    overrides: dict[str, Any] | None = None,
    variables: Sequence[str] | None = None,
    engine: str = "auto",
    scenarios_file: str | Path | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    allow_outside_range: bool = False,
    **legacy: Any,
) -> xr.Dataset:
    """Run the same scenarios of several models and return them along a ``model`` dimension.

    Parameters
    ----------
    models : sequence of Model or path, or mapping of label to Model or path
        The models; labelled by their file stem (``sanctions.mdl`` -> ``"sanctions"``)
        unless given as a mapping. Two models may not share a label.
    scenarios, overrides, variables, engine, progress
        As for :func:`sdkit.run.run`, the same for every model (``set=`` is the earlier
        name of ``overrides``, still accepted). ``variables`` defaults to
        the stocks and auxiliaries of each model; a variable one model lacks is NaN there.
    scenarios_file : path, optional
        Read every model's scenarios from this file (a variant reusing its base model's
        scenarios) instead of from the file beside each model. Applies to models given
        as paths.

    Returns
    -------
    xarray.Dataset
        Dims ``(model, scenario, time)`` plus subscripts. Coordinates ``model_file``,
        ``model_path``, ``model_sha256`` and ``scenarios_file`` (empty when the model has
        none) along ``model``; attribute ``models`` holds each model's full run
        provenance as JSON (see :func:`model_provenance`).

    Raises
    ------
    ParameterError
        No models, or two models with the same label.
    """
    overrides = overrides_argument(overrides, legacy, "compare")
    labelled = _labelled(models)
    pieces, records = [], {}
    for label, model in labelled.items():
        if not isinstance(model, Model):
            model = load_model(model, scenarios=scenarios_file, allow_outside_range=allow_outside_range)
        piece = run(model, scenarios=scenarios, overrides=overrides, variables=variables, engine=engine,
                    progress=progress, allow_outside_range=allow_outside_range)
        records[label] = dict(piece.attrs)
        pieces.append(piece)
    labels = list(labelled)
    combined = xr.concat(pieces, dim="model", join="outer", combine_attrs="drop_conflicts")
    combined = combined.assign_coords(
        model=np.array(labels, dtype=str),
        **{key: ("model", np.array([records[label].get(key, "") for label in labels], dtype=str))
           for key in PER_MODEL},
    )
    combined["model"].attrs = {"long_name": "model"}
    shared = {k: v for k, v in combined.attrs.items() if k not in PER_MODEL and all(
        records[label].get(k) == v for label in labelled)}
    combined.attrs = {**shared, "models": json.dumps(records, sort_keys=True)}
    return combined


def model_provenance(dataset: xr.Dataset) -> dict[str, dict[str, Any]]:
    """Each model's provenance in a :func:`compare` result, by model label (JSON fields decoded).

    Raises
    ------
    ParameterError
        The dataset was not made by :func:`compare` (it has no ``models`` attribute).
    """
    if "models" not in dataset.attrs:
        raise ParameterError("the dataset has no 'models' attribute; make it with sdkit.compare "
                             "(or `sdkit run A.mdl B.mdl ...`)")
    records = json.loads(dataset.attrs["models"])
    return {label: {k: _decoded(v) for k, v in record.items()} for label, record in records.items()}


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _labelled(models: Models) -> dict[str, Model | str | Path]:
    if isinstance(models, Mapping):
        labelled = {str(label): model for label, model in models.items()}
    else:
        labelled = {}
        for model in models:
            label = model.name if isinstance(model, Model) else Path(model).stem
            if label in labelled:
                raise ParameterError(f"two models are labelled {label!r}; give sdkit.compare a mapping "
                                     "{label: model} to tell them apart, or rename one file")
            labelled[label] = model
    if not labelled:
        raise ParameterError("sdkit.compare needs at least one model; give a list of .mdl paths or models")
    return labelled
