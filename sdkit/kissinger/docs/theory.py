"""The parameter table of ``docs/theory.md`` from the core model file.

Each row is one constant of ``models/kissinger_core.mdl``: its value, the ``[min,max]``
of its units field and the "Source:" line of its comment. Constants without a source
line are scenario levers (exogenous paths, phases), set by the scenarios; their
calendar values are in docs/history.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sdkit.kissinger import CORE
from sdkit.model import load_model
from sdkit.run import run

LEVER = "scenario lever: exogenous path or phase, set by the scenarios (calendar values in docs/history.md)"


def source_of(comment: str) -> str:
    """The text after "Source:" in a comment, "test input" for test inputs, else the lever note."""
    text = " ".join(comment.split())
    if "Source:" in text:
        return text.split("Source:", 1)[1].strip()
    if "Test input" in text:
        return "test input"
    if "Definition" in text:
        return "definition (equal effort)"
    return LEVER


def parameter_table(models: Path) -> str:
    """One markdown row per constant of the core model: value, range, source."""
    model = load_model(models / f"{CORE}.mdl")
    constants = [v for v in model.variables.values() if v.kind == "constant"]
    values = run(model, variables=[v.name for v in constants], engine="engine")
    rows = ["| parameter | value | range | source |", "|---|---|---|---|"]
    for v in constants:
        value = float(values[v.py_name].values.ravel()[0])
        low, high = v.limits
        bounds = f"[{low:g}, {high:g}]" if low is not None and high is not None else ""
        rows.append(f"| `{v.name}` | {value:g} | {bounds} | {source_of(v.comment)} |")
    return "\n".join(rows)


def write(models: Path, img: Path, metadata: Mapping[str, str], sweeps: Path | None = None) -> tuple[list[Path], str]:
    """No figures; the table of the doc."""
    return [], parameter_table(models)
