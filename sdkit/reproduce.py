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

from sdkit.check_runs import run_checks
from sdkit.checks import CheckResult, checks_path_for, load_checks
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


def step_reference_mode_figures(context: Context, echo: Callable[[str], None]) -> None:
    """One figure per reference mode of every model with checks: a panel per variable, thresholds drawn."""
    from sdkit import figures

    written: list[Path] = []
    for name, results in context.check_results.items():
        if name not in context.datasets:
            echo(f"{name}: no scenarios file, so no runs to draw its reference modes on")
            continue
        written += figures.figure_reference_modes(
            context.datasets[name], results, context.checks[name], context.figures(),
            f"reference-modes-{name.replace('_', '-')}", context.metadata,
        )
    context.written += written
    echo(f"{len(written)} figure files")


def _studies(context: Context) -> list:
    from dataclasses import replace

    from sdkit.sensitivity import read_study
    from sdkit.sensitivity.methods import METHODS

    studies = []
    for path in sorted((context.models.parent / "sensitivity").glob("*.toml")):
        study = read_study(path)
        if context.quick:
            samples = min(study.samples, METHODS[study.method].quick_samples)
            convergence = study.convergence
            if convergence is not None:
                sizes = tuple(s for s in convergence.sizes if s <= samples) or (samples,)
                convergence = replace(convergence, sizes=sizes)
            study = replace(study, samples=samples, convergence=convergence)
        studies.append(study)
    return studies


def step_sensitivity(context: Context, echo: Callable[[str], None]) -> None:
    """Run every sensitivity study in ``sensitivity/`` beside the models folder; keep indices, samples and outputs."""
    from sdkit.sensitivity import run_study
    from sdkit.sensitivity.cli import top_table

    studies = _studies(context)
    if not studies:
        echo(f"no studies in {context.models.parent / 'sensitivity'} (sdkit reads sweep files from the "
             "sensitivity/ folder beside --models)")
    for study in studies:
        folder = context.out / "sweeps" / study.name
        result = run_study(study, folder, force=True)
        context.sweeps[study.name] = result
        context.written += sorted(p for p in folder.glob("*.nc"))
        table = top_table(result.indices, k=3) if result.indices is not None else ""
        context.write_text(f"sweeps/{study.name}-top.txt", table + "\n")
        echo(f"{study.name}: {result.x.shape[0]} runs in {result.seconds:.1f} s\n{table}")


Step = tuple[str, Callable[[Context, Callable[[str], None]], None]]

#: What ``reproduce`` does for any models folder.
STEPS: list[Step] = [
    ("scenario runs", step_scenarios),
    ("reference-mode checks", step_checks),
    ("reference-mode figures", step_reference_mode_figures),
    ("sensitivity studies", step_sensitivity),
]


def reproduce(models: Path, out: Path, quick: bool = False, echo: Callable[[str], None] = log.info) -> Context:
    """Run every step, then the project's study steps if the folder holds its models.

    Returns the context with the files written and any failed checks.
    """
    from sdkit import kissinger

    out.mkdir(parents=True, exist_ok=True)
    context = Context(models=models, out=out, quick=quick)
    steps = STEPS + (kissinger.reproduce_steps() if kissinger.holds_models(models) else [])
    for title, step in steps:
        echo(f"== {title}")
        step(context, echo)
    return context
