"""Run the engine on a folder of Vensim conformance models and compare with canonical outputs.

Usage::

    python -m sdkit.engine.conformance [DIR]

``DIR`` defaults to ``../shared/conformance`` relative to the current
directory. Each sub-folder holds one ``.mdl`` and an ``output.csv`` or
``output.tab`` produced by Vensim. The command prints a markdown table with
one row per case: ``passed``, ``unsupported (<function>)``, ``incomplete (<data
file> is not in the case folder)``, ``failed (max
error ...)`` or ``error (...)``. Tolerance: ``rtol=1e-5, atol=1e-5``.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdkit import report
from sdkit.errors import SdkitError, UnsupportedFeature

log = logging.getLogger(__name__)

RTOL = 1e-5
ATOL = 1e-5
DEFAULT_DIR = Path("..") / "shared" / "conformance"
#: "incomplete": the case's model reads a data file its folder does not hold.
STATUSES = ("passed", "unsupported", "incomplete", "failed", "error")


@dataclass
class CaseResult:
    """Outcome of one conformance case."""

    case: str
    status: str  # one of STATUSES
    detail: str = ""
    max_error: float = float("nan")
    compared: int = 0

    def cell(self) -> str:
        """Status text for the markdown table."""
        if self.status == "passed":
            return f"passed ({self.compared} series)"
        if self.status == "failed":
            return f"failed (max error {self.max_error:.3g}; {self.detail})"
        return f"{self.status} ({self.detail})"


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace('"', "").strip().lower())


def load_canonical(folder: Path):
    """Return the canonical output of a case as a DataFrame indexed by time."""
    from pysd.py_backend.utils import load_outputs

    for fname in ("output.csv", "output.tab"):
        f = folder / fname
        if f.is_file():
            return load_outputs(f)
    raise FileNotFoundError(f"no output.csv or output.tab in '{folder}'")


def _missing_data_files(mdl: Path) -> list[str]:
    """Data files the case's model reads (GET XLS/DIRECT ...) that its folder lacks."""
    from sdkit.model_file import parse_model_text, read_model_text
    from sdkit.structure import data_files

    try:
        abstract_model = parse_model_text(mdl, read_model_text(mdl)[1])
    except SdkitError:
        return []
    names = dict.fromkeys(name for _owner, name in data_files(abstract_model) if isinstance(name, str))
    return [name for name in names if not (mdl.parent / name).is_file()]


def find_cases(root: Path) -> list[tuple[str, Path]]:
    """Return (case name, model path) for every sub-folder holding a .mdl file.

    With several .mdl files the one named after the folder is used.
    """
    cases = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        mdls = sorted(folder.glob("*.mdl"))
        if not mdls:
            continue
        preferred = [m for m in mdls if m.stem in (folder.name, f"test_{folder.name}")]
        cases.append((folder.name, (preferred or mdls)[0]))
    return cases


def run_case(name: str, mdl: Path) -> CaseResult:
    """Compile and simulate one case with the engine and compare with its canonical output."""
    from sdkit.engine import compile_model

    try:
        kernel = compile_model(mdl, backend="numpy")
    except UnsupportedFeature as exc:
        m = re.search(r"function '([^']+)'", str(exc))
        return CaseResult(name, "unsupported", m.group(1) if m else str(exc).split(";")[0])
    except SdkitError as exc:
        missing = _missing_data_files(mdl)
        if missing:
            return CaseResult(name, "incomplete", f"{missing[0]} is not in the case folder")
        return CaseResult(name, "error", str(exc))
    try:
        canon = load_canonical(mdl.parent)
        res = kernel.simulate({}, 1, save="all")
    except (SdkitError, FileNotFoundError) as exc:
        return CaseResult(name, "error", str(exc))
    by_name: dict[str, tuple[str, tuple[str, ...]]] = {}
    for py, model_name in kernel.names.items():
        dims = kernel.var_dims[py]
        if not dims:
            by_name[_norm(model_name)] = (py, ())
        else:
            import itertools

            for elems in itertools.product(*[kernel.dims[d] for d in dims]):
                key = _norm(f"{model_name}[{','.join(elems)}]")
                by_name[key] = (
                    py,
                    tuple(kernel.dims[d].index(e) for d, e in zip(dims, elems, strict=True)),
                )
    times = res.times
    rows = []
    for t in canon.index.values:
        j = int(np.argmin(np.abs(times - t)))
        rows.append(j if abs(times[j] - t) < kernel.time_step / 4 else -1)
    rows = np.asarray(rows)
    if (rows < 0).any():
        missing = canon.index.values[rows < 0][:3]
        return CaseResult(name, "failed", f"times {list(missing)} not saved", np.inf)
    worst, worst_name, compared = 0.0, "", 0
    for col in canon.columns:
        key = by_name.get(_norm(str(col)))
        if key is None:
            continue
        py, pos = key
        expected = canon[col].to_numpy(dtype=float)
        ours = res.data[py][(0, slice(None), *pos)][rows]
        ok = np.isfinite(expected)
        if not ok.any():
            continue
        compared += 1
        err = np.abs(ours[ok] - expected[ok])
        failing = ~(err <= ATOL + RTOL * np.abs(expected[ok]))
        if failing.any():
            e = float(np.max(np.where(np.isnan(err), np.inf, err)))
            if e >= worst:
                worst, worst_name = e, str(col)
    if compared == 0:
        return CaseResult(name, "error", "no canonical column matched a model variable")
    if worst > 0:
        return CaseResult(name, "failed", f"worst in '{worst_name}'", worst, compared)
    return CaseResult(name, "passed", compared=compared)


def run_all(root: Path) -> list[CaseResult]:
    """Run every case under ``root``."""
    results = []
    for name, mdl in find_cases(root):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(run_case(name, mdl))
    return results


def markdown_table(results: list[CaseResult]) -> str:
    """The results as a markdown table, then how many cases have each status."""
    counts = ", ".join(f"{sum(r.status == s for r in results)} {s}" for s in STATUSES)
    rows = [(r.case, r.cell()) for r in results]
    return f"{report.markdown_table(['case', 'status'], rows)}\n\n{counts} of {len(results)} cases"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (1 if any case failed)."""
    parser = argparse.ArgumentParser(
        prog="python -m sdkit.engine.conformance",
        description="Compare the ensemble engine with Vensim conformance models.",
    )
    parser.add_argument("dir", nargs="?", default=str(DEFAULT_DIR), help="conformance folder")
    args = parser.parse_args(argv)
    root = Path(args.dir)
    if not root.is_dir():
        sys.stderr.write(f"conformance folder '{root}' does not exist; pass its path\n")
        return 2
    results = run_all(root)
    sys.stdout.write(markdown_table(results) + "\n")
    return 1 if any(r.status in ("failed", "error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
