"""Regenerate every result, table and figure of the project from scratch.

``sdkit reproduce`` runs each step in order; each step writes files into the output
folder (atomically) and returns the paths it wrote, so the command can end with a
summary of everything produced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sdkit.check_runs import run_checks
from sdkit.checks import CheckResult, checks_path_for, load_checks
from sdkit.errors import SdkitError
from sdkit.io import write_atomic, write_netcdf
from sdkit.model import Model, load_model
from sdkit.report import checks_table, final_values
from sdkit.run import run

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What the steps share: where to read models, where to write, and what was made."""

    models: Path
    out: Path
    quick: bool = False
    written: list[Path] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    datasets: dict = field(default_factory=dict)
    check_results: dict[str, list[CheckResult]] = field(default_factory=dict)
    checks: dict[str, list] = field(default_factory=dict)
    sweeps: dict = field(default_factory=dict)
    models_loaded: dict[Path, Model] = field(default_factory=dict)

    def model(self, path: Path) -> Model:
        """Each model is read (and its kernel compiled) once per reproduce run."""
        if path not in self.models_loaded:
            self.models_loaded[path] = load_model(path)
        return self.models_loaded[path]

    @property
    def metadata(self) -> dict[str, str]:
        """Stored in every figure file: what made it, and whether samples were reduced."""
        return {"sdkit:command": "sdkit reproduce" + (" --quick" if self.quick else ""), "sdkit:quick": str(self.quick).lower()}

    def figures(self) -> Path:
        folder = self.out / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def write_text(self, name: str, text: str) -> Path:
        path = write_atomic(self.out / name, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        self.written.append(path)
        return path


def step_scenarios(context: Context, echo: Callable[[str], None]) -> None:
    """Run every scenario of every model that has a scenarios file; write netCDF and a summary."""
    for path in sorted(context.models.glob("*.mdl")):
        model = context.model(path)
        if not model.scenarios:
            continue
        dataset = run(model, scenarios=list(model.scenarios))
        dataset.attrs["command"] = "sdkit reproduce"
        context.datasets[model.name] = dataset
        target = write_netcdf(dataset, context.out / f"{model.name}.nc")
        context.written.append(target)
        summary = final_values(dataset, [s for s in model.stocks if s in dataset])
        context.write_text(f"{model.name}-final-values.txt", summary + "\n")
        echo(f"{model.name}: {len(model.scenarios)} scenarios, final values:\n{summary}")


def step_checks(context: Context, echo: Callable[[str], None]) -> None:
    """Evaluate each model's reference-mode checks on its scenario runs."""
    for path in sorted(context.models.glob("*.mdl")):
        checks_file = checks_path_for(path)
        if not checks_file.exists():
            continue
        checks = load_checks(checks_file)
        model = context.model(path)
        results = run_checks(model, checks, dataset=context.datasets.get(model.name))
        context.check_results[model.name] = results
        context.checks[model.name] = checks
        text = checks_table(results)
        context.write_text(f"{model.name}-checks.txt", text + "\n")
        context.failed_checks += [f"{model.name}:{r.id}" for r in results if not r.passed and not r.xfail]
        echo(f"{model.name}: reference-mode checks\n{text}")


CORE = "kissinger_core"
BALANCE_MAP_AXES = (("legitimacy emphasis", 0.0, 1.0), ("guarantor share initial", 0.2, 1.0))
BALANCE_MAP_SCENARIO = "versailles"


def step_core_figures(context: Context, echo: Callable[[str], None]) -> None:
    """Trajectories, phase portrait and reference-mode panels of the core model."""
    from sdkit import figures

    model = context.model(context.models / f"{CORE}.mdl")
    dataset = context.datasets[CORE]
    written = figures.figure_trajectories(dataset, context.figures(), context.metadata)
    region = figures.restraint_region(model, "balanced", resolution=60 if context.quick else 160)
    written += figures.figure_phase(dataset, region, context.figures(), context.metadata)
    for name, results in context.check_results.items():
        written += figures.figure_reference_modes(
            context.datasets.get(name, dataset), results, context.checks[name], context.figures(),
            f"reference-modes-{name.replace('_', '-')}", context.metadata,
        )
    context.written += written
    echo(f"{len(written)} figure files")


def step_balance_map(context: Context, echo: Callable[[str], None]) -> None:
    """Outcome over legitimacy emphasis and the guarantors' resource share, Versailles-like challenger."""
    from sdkit import figures
    from sdkit.balance import balance_map

    model = context.model(context.models / f"{CORE}.mdl")
    resolution = 60 if context.quick else 200
    x, y = BALANCE_MAP_AXES
    ds_map = balance_map(model, x, y, resolution=resolution, scenario=BALANCE_MAP_SCENARIO)
    ds_map.attrs["quick"] = str(context.quick).lower()
    context.written.append(write_netcdf(ds_map, context.out / "balance-map.nc"))
    context.written += figures.figure_balance_map(ds_map, context.figures(), context.metadata)
    counts = np.bincount(ds_map["outcome"].to_numpy().ravel(), minlength=3)
    echo(
        f"balance map {resolution}x{resolution} ({BALANCE_MAP_SCENARIO}): "
        f"{counts[0]} stable, {counts[1]} collapse then new order, {counts[2]} lasting disorder"
    )


QUICK_SAMPLES = {"sobol": 128, "morris": 16, "efast": 129, "pawn": 256, "delta": 256}
FAN_RUNS = 400
FAN_VARIABLES = ("Restraint", "Legitimacy", "Power", "Institutional Authority")


def _studies(context: Context) -> list:
    from dataclasses import replace

    from sdkit.sensitivity import read_study

    studies = []
    for path in sorted((context.models.parent / "sensitivity").glob("*.toml")):
        study = read_study(path)
        if context.quick:
            samples = min(study.samples, QUICK_SAMPLES.get(study.method, study.samples))
            convergence = study.convergence
            if convergence is not None:
                sizes = tuple(s for s in convergence.sizes if s <= samples) or (samples,)
                convergence = replace(convergence, sizes=sizes)
            study = replace(study, samples=samples, convergence=convergence)
        studies.append(study)
    return studies


def step_sensitivity(context: Context, echo: Callable[[str], None]) -> None:
    """Run every shipped sensitivity study; keep indices, samples and outputs per study."""
    from sdkit.sensitivity import run_study
    from sdkit.sensitivity.cli import top_table

    for study in _studies(context):
        folder = context.out / "sweeps" / study.name
        result = run_study(study, folder, force=True)
        context.sweeps[study.name] = result
        context.written += sorted(p for p in folder.glob("*.nc"))
        table = top_table(result.indices, k=3) if result.indices is not None else ""
        context.write_text(f"sweeps/{study.name}-top.txt", table + "\n")
        echo(f"{study.name}: {result.x.shape[0]} runs in {result.seconds:.1f} s\n{table}")


def step_sensitivity_figures(context: Context, echo: Callable[[str], None]) -> None:
    """Sobol indices of the four orders side by side, Morris screening, time-resolved and convergence."""
    from sdkit import figures

    written = figures.figure_sensitivity(context.sweeps, context.figures(), context.metadata)
    context.written += written
    echo(f"{len(written)} figure files")


def step_fans(context: Context, echo: Callable[[str], None]) -> None:
    """Ensembles over each order's parameter ranges (its Sobol study's sample): fan charts."""
    from sdkit import figures
    from sdkit.ensemble import ensemble
    from sdkit.sensitivity import read_study, sample, sample_frame

    model = context.model(context.models / f"{CORE}.mdl")
    runs = FAN_RUNS // 4 if context.quick else FAN_RUNS
    fans = {}
    for order in figures.ORDERS:
        study = read_study(context.models.parent / "sensitivity" / f"{order}_sobol.toml")
        frame = sample_frame(study, sample(study)[:runs])
        fans[order] = ensemble(model, frame, variables=list(FAN_VARIABLES), scenario=study.scenario)
    written = []
    for variable in ("restraint", "institutional_authority"):
        written += figures.figure_fan(fans, variable, context.figures(), context.metadata)
    context.written += written
    echo(f"fan charts from {runs} runs per order: {len(written)} figure files")


DOCS_SCRIPTS = (
    ("make_model_core_figures.py", ()),
    ("make_history_figures.py", ()),
    ("make_four_orders_figures.py", ()),
    ("make_sensitivity_figures.py", ("--results", "{sweeps}")),
    ("make_four_orders_sensitivity_figures.py", ("--results", "{sweeps}")),
)


def step_docs_figures(context: Context, echo: Callable[[str], None]) -> None:
    """The figures and tables of docs/*.md, by the scripts beside them, into ``OUT/img``.

    Skipped with ``--quick``: the docs quote the full-size runs.
    """
    import subprocess
    import sys
    import time

    docs = context.models.parent / "docs"
    if context.quick:
        echo("skipped with --quick (the docs quote full-size runs): " + ", ".join(s for s, _ in DOCS_SCRIPTS))
        return
    img = context.out / "img"
    img.mkdir(parents=True, exist_ok=True)
    for script, extra in DOCS_SCRIPTS:
        arguments = [a.format(sweeps=context.out / "sweeps") for a in extra]
        started = time.time()
        completed = subprocess.run(
            [sys.executable, str(docs / script), "--img", str(img), *arguments],
            capture_output=True, text=True, check=False,
        )
        if completed.returncode != 0:
            raise SdkitError(f"docs/{script} failed: {completed.stderr.strip().splitlines()[-1:]}")
        context.write_text(f"img/{Path(script).stem}.txt", completed.stdout)
        made = sorted(p for p in img.iterdir() if p.stat().st_mtime >= started and p.suffix != ".txt")
        context.written += made
        echo(f"docs/{script}: {len(made)} files")


STEPS: list[tuple[str, Callable[[Context, Callable[[str], None]], None]]] = [
    ("scenario runs", step_scenarios),
    ("reference-mode checks", step_checks),
    ("core-model figures", step_core_figures),
    ("balance map", step_balance_map),
    ("sensitivity studies", step_sensitivity),
    ("sensitivity figures", step_sensitivity_figures),
    ("ensemble fan charts", step_fans),
    ("figures and tables of docs/", step_docs_figures),
]


def reproduce(models: Path, out: Path, quick: bool = False, echo: Callable[[str], None] = log.info) -> Context:
    """Run every step; returns the context with the files written and any failed checks."""
    out.mkdir(parents=True, exist_ok=True)
    context = Context(models=models, out=out, quick=quick)
    for title, step in STEPS:
        echo(f"== {title}")
        step(context, echo)
    return context
