"""Print the parameter table of docs/theory.md from the core model file.

Usage (from the repository root)::

    python docs/make_theory_parameters.py

Each row is one constant of ``models/kissinger_core.mdl``: its value, the
``[min,max]`` of its units field and the "Source:" line of its comment. Constants
without a source line are scenario levers (exogenous paths, phases), set by the
scenarios; their calendar values are in docs/history.md.
"""

from __future__ import annotations

from pathlib import Path

from sdkit import run
from sdkit.model import load_model

MODEL = Path(__file__).resolve().parents[1] / "models" / "kissinger_core.mdl"
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


def main() -> None:
    model = load_model(MODEL)
    constants = [v for v in model.variables.values() if v.kind == "constant"]
    values = run(model, variables=[v.name for v in constants], engine="engine")
    print("| parameter | value | range | source |")
    print("|---|---|---|---|")
    for v in constants:
        value = float(values[v.py_name].values.ravel()[0])
        low, high = v.limits
        bounds = f"[{low:g}, {high:g}]" if low is not None and high is not None else ""
        print(f"| `{v.name}` | {value:g} | {bounds} | {source_of(v.comment)} |")


if __name__ == "__main__":
    main()
