"""``sdkit plot``: draw a figure of the catalogue from a saved result file.

The kind of figure follows from what the file holds (a run, an ensemble, Sobol or
Morris indices, a balance map) unless ``--kind`` says otherwise; ``--labels`` maps
scenario and variable names to the words a reader should see.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sdkit.cli_options import add_shared
from sdkit.errors import ParameterError, PlotError

KINDS = ("trajectories", "fan", "phase", "sobol", "morris", "balance-map", "checks", "dominance", "dominance-map")
WIDTHS = ("single", "double")


def add_plot_parser(sub: Any, help_text: str) -> None:
    p = sub.add_parser("plot", help=help_text)
    p.add_argument("result", help="netCDF file written by sdkit run, ensemble, sweep or reproduce")
    p.add_argument("--var", nargs="+", metavar="NAME", help="variables to draw (default: the stocks, or all outputs)")
    p.add_argument("--kind", choices=KINDS, help="figure to draw (default: from the file's contents)")
    p.add_argument("--scenario", nargs="+", metavar="NAME", help="scenarios to draw (default: all of one calendar)")
    p.add_argument("--output", metavar="NAME", help="sensitivity output to draw (sobol, morris)")
    p.add_argument("--mode", metavar="NAME", help="reference mode to draw (checks)")
    p.add_argument("--checks", metavar="FILE.toml",
                   help="checks file whose thresholds --kind checks draws (default: the one the result was checked "
                        "with, else the one beside the model that made it)")
    p.add_argument("--scenarios", metavar="FILE.toml",
                   help="scenarios file of the model that made the result, for checks that read constants "
                        "(default: the one the result records, else the one beside the model)")
    p.add_argument("--width", choices=WIDTHS, default="double", help="journal column width (default: double)")
    p.add_argument("--labels", metavar="FILE.toml", help="[scenarios] and [variables] tables of display names")
    p.add_argument("--out", required=True, metavar="FIG.{png,pdf,svg}", help="figure file; the suffix sets the format")
    add_shared(p, "--force")


def cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from sdkit import plot
    from sdkit.figures_io import FIGURE_FORMATS, save_figure
    from sdkit.io import check_output_path

    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise ParameterError(f"--out {out}: unknown figure format {out.suffix or '(none)'}; end it in .png, .pdf or .svg")
    check_output_path(out, args.force)
    ds = open_result(Path(args.result))
    kind = args.kind or guess_kind(ds)
    if args.scenario and kind != "checks":
        ds = _select_scenarios(ds, args.scenario)
    if args.labels:
        ds = apply_labels(ds, read_labels(Path(args.labels)), scenarios=kind != "checks")
    if "model" in ds.dims:
        ds = fold_models(ds, kind)
    with plot.style(args.width):
        fig = DRAW[kind](ds, args)
        save_figure(fig, out.with_suffix(""), formats=(fmt,),
                    metadata={"sdkit:command": f"sdkit plot {args.result} --kind {kind}"})
    print(f"wrote {out} ({kind})")
    return 0


def open_result(path: Path) -> Any:
    """The dataset of a result file, loaded into memory; a one-line error if it is not one."""
    import xarray as xr

    from sdkit.io import looked_for

    if not path.is_file():
        raise ParameterError(f"result file {path} does not exist or is not a file ({looked_for(path)}); give a "
                             ".nc file written by sdkit run, ensemble, sweep or reproduce (--out FILE.nc)")
    try:
        return xr.load_dataset(path)
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParameterError(f"cannot read result file {path} as netCDF ({reason}); give a .nc file sdkit wrote") from None


def guess_kind(ds: Any) -> str:
    """The figure a result file is made for, from its variables and dimensions."""
    if "outcome" in ds.data_vars:
        return "balance-map"
    if "relative_loop_score" in ds.data_vars:
        return "dominance-map" if "sample" in ds.dims else "dominance"
    if "mu_star" in ds.data_vars:
        return "morris"
    if "ST" in ds.data_vars and "param" in ds.dims:
        return "sobol"
    if "sample" in ds.dims and "time" in ds.dims:
        return "fan"
    if "time" in ds.dims:
        return "trajectories"
    raise PlotError("cannot tell which figure this file is for; give --kind "
                    f"({', '.join(KINDS)})")


def read_labels(path: Path) -> dict[str, dict[str, str]]:
    """``[scenarios]`` and ``[variables]`` tables of display names from a TOML file."""
    from sdkit.io import looked_for, read_toml

    if not path.exists():
        raise ParameterError(f"labels file {path} does not exist ({looked_for(path)}); check the path given to "
                             "--labels (a TOML file with [scenarios] and [variables])")
    data = read_toml(path, "labels file", ParameterError)[1]
    unknown = sorted(set(data) - {"scenarios", "variables"})
    if unknown:
        raise ParameterError(f"labels file {path}: unknown table [{unknown[0]}]; use [scenarios] and [variables]")
    labels = {}
    for table in ("scenarios", "variables"):
        entries = data.get(table, {})
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise ParameterError(f"labels file {path}: [{table}] must map names to text, e.g. liberal = \"Liberal order\"")
        labels[table] = dict(entries)
    return labels


def _select_scenarios(ds: Any, names: list[str]) -> Any:
    present = [str(s) for s in ds["scenario"].values] if "scenario" in ds.dims else []
    missing = [n for n in names if n not in present]
    if missing:
        raise ParameterError(f"--scenario {missing[0]!r} is not in the result; it holds {', '.join(present) or 'none'}")
    return ds.sel(scenario=names)


def fold_models(ds: Any, kind: str) -> Any:
    """A result of several models (``sdkit run A.mdl B.mdl``) as one run per model and scenario,
    labelled ``"model: scenario"``, so every figure draws the models side by side."""
    import xarray as xr

    from sdkit.compare import PER_MODEL

    models = [str(m) for m in ds["model"].values]
    if kind == "checks":
        raise ParameterError(f"the result holds several models ({', '.join(models)}); --kind checks reads one "
                             "model's runs: compare checks with `sdkit check VARIANT.mdl --baseline BASE.mdl`")
    if "scenario" not in ds.dims:
        return ds.drop_vars([c for c in PER_MODEL if c in ds.coords]).rename(model="scenario")
    pieces = [ds.sel(model=m).drop_vars(["model", *(c for c in PER_MODEL if c in ds.coords)])
              .assign_coords(scenario=[f"{m}: {s}" for s in ds["scenario"].values]) for m in models]
    return xr.concat(pieces, dim="scenario", combine_attrs="override")


def apply_labels(ds: Any, labels: Mapping[str, Mapping[str, str]], scenarios: bool = True) -> Any:
    """Rename scenarios (unless `scenarios` is False: checks read them by name) and set
    variables' ``long_name`` (by model or python-safe name)."""
    from sdkit.measures import resolve_variable

    ds = ds.copy()
    scenario_names = labels.get("scenarios", {})
    if scenarios and scenario_names and "scenario" in ds.dims:
        ds = ds.assign_coords(scenario=[scenario_names.get(str(s), str(s)) for s in ds["scenario"].values])
    for name, text in labels.get("variables", {}).items():
        var = resolve_variable(ds, name)
        if var is None:
            raise ParameterError(f"labels file names variable {name!r}, which the result does not hold")
        ds[var].attrs["long_name"] = text
    return ds


def _variables(ds: Any, args: argparse.Namespace) -> list[str]:
    from sdkit.measures import resolve_variable
    from sdkit.plot import default_variables

    if not args.var:
        return default_variables(ds)
    resolved = []
    for name in args.var:
        var = resolve_variable(ds, name)
        if var is None:
            raise ParameterError(f"--var {name!r} is not in the result; it holds {', '.join(map(str, ds.data_vars))}")
        resolved.append(var)
    return resolved


def _trajectories(ds: Any, args: argparse.Namespace) -> Any:
    from sdkit import plot
    from sdkit.plot.common import calendars, scenario_names

    variables = _variables(ds, args)
    scenarios = _all_scenarios(ds) if args.scenario else None
    if scenarios is None and "scenario" in ds.dims:
        groups = list(calendars(ds, scenario_names(ds)).items())
        (low, high), scenarios = groups[0]
        if len(groups) > 1:
            others = ", ".join(n for _, names in groups[1:] for n in names)
            print(f"drawing the scenarios of {low:g}-{high:g} ({', '.join(scenarios)}); "
                  f"others run on other calendars ({others}): choose them with --scenario")
    return plot.trajectories(ds, scenarios=scenarios, variables=variables, ylim=None)


def _all_scenarios(ds: Any) -> list[str] | None:
    return [str(s) for s in ds["scenario"].values] if "scenario" in ds.dims else None


def _fan(ds: Any, args: argparse.Namespace) -> Any:
    from sdkit import plot

    (variable,) = _variables(ds, args)[:1]
    return plot.fan_chart({str(ds.attrs.get("scenario", "ensemble")): ds}, variable, ylim=None)


def _phase(ds: Any, args: argparse.Namespace) -> Any:
    from sdkit import plot

    variables = _variables(ds, args)
    if len(variables) < 2:
        raise ParameterError("--kind phase draws two variables against each other; name them with --var X --var Y")
    return plot.phase_portrait(ds, scenarios=_all_scenarios(ds), x=variables[0], y=variables[1]).figure


def _sobol(ds: Any, args: argparse.Namespace) -> Any:
    from sdkit import plot

    return plot.sobol_indices({"": ds}, _output(ds, args))


def _morris(ds: Any, args: argparse.Namespace) -> Any:
    from sdkit import plot

    return plot.morris(ds, _output(ds, args)).figure


def _balance_map(ds: Any, args: argparse.Namespace) -> Any:
    from sdkit import plot

    return plot.balance_map(ds).figure


def _checks(ds: Any, args: argparse.Namespace) -> Any:
    from sdkit import plot
    from sdkit.checks import evaluate, load_checks

    checks = load_checks(_checks_file(ds, args.checks))
    present = {str(s) for s in ds["scenario"].values}
    # a check that sets constants reads another run than the saved one
    runnable = [c for c in checks if c.scenario in present and not c.overrides]
    modes = list(dict.fromkeys(c.mode for c in runnable))
    if args.mode is None and len(modes) != 1:
        raise ParameterError(f"the result holds the scenarios of modes {', '.join(modes) or 'none'}; choose one with --mode")
    mode = args.mode or modes[0]
    results = evaluate([c for c in runnable if c.mode == mode], ds, _constants(ds, args.scenarios))
    fig, _ = plot.reference_mode_figure(ds, results, mode, checks=checks)
    return fig


def _checks_file(ds: Any, given: str | None) -> Path:
    """``--checks FILE``, else the checks file the result was checked with, else the one beside its model."""
    from sdkit.check_file import find_checks_file

    if given is None and Path(str(ds.attrs.get("checks_file", ""))).is_file():
        return Path(ds.attrs["checks_file"])
    model = ds.attrs.get("model_path") or ds.attrs.get("model_file")
    if given is None and not model:
        raise ParameterError("the result names no model and no checks file; give the checks file with --checks FILE.toml")
    return find_checks_file(Path(str(model or "")), given)


def _constants(ds: Any, scenarios: str | None = None) -> Any:
    """Constants of the model that made the result, for ``param`` measures (None if it is not at hand)."""
    from sdkit.check_runs import constant_lookup
    from sdkit.model import load_model

    model_path = Path(str(ds.attrs.get("model_path") or ds.attrs.get("model_file") or ""))
    if not model_path.is_file():
        return None
    recorded_file = Path(str(ds.attrs.get("scenarios_file", "")))
    if scenarios is None and recorded_file.is_file():
        scenarios = str(recorded_file)
    try:  # the parameters each scenario ran with, --set included
        recorded = {name: run["parameters"] for name, run in json.loads(ds.attrs.get("scenarios", "{}")).items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        recorded = None
    return constant_lookup(load_model(model_path, scenarios=scenarios, numba=False), {}, recorded)


def _output(ds: Any, args: argparse.Namespace) -> str | None:
    if args.output is None and "output" in ds.dims and ds.sizes["output"] > 1:
        names = ", ".join(str(o) for o in ds["output"].values)
        raise ParameterError(f"the result has several outputs ({names}); choose one with --output")
    return args.output


def _dominance(ds: Any, args: argparse.Namespace) -> Any:
    """Loop dominance under the trajectory of --var (default: the first stock the file holds)."""
    from sdkit import plot

    held = [str(v) for v in ds.data_vars if ds[v].dims == ("time",) and v != "dominant_loop"]
    if not (args.var or held):
        raise ParameterError("the loop scores hold no trajectory to draw them under; score them again "
                             "with `sdkit loops MODEL --dominance --scenario NAME --out FILE.nc`")
    return plot.loop_dominance(ds, stock=args.var[0] if args.var else held[0])


def _dominance_map(ds: Any, args: argparse.Namespace) -> Any:
    """The loop dominant before the event over two sampled constants (--var X Y, default the two sampled)."""
    from sdkit import plot

    if "window_dominant_loop" not in ds.data_vars:
        raise ParameterError("the loop scores of this ensemble name no loop dominant before an event; score them "
                             "with --before 'NAME<LEVEL' to draw a dominance map")
    sampled = [str(v) for v in ds.data_vars if ds[v].dims == ("sample",)
               and v not in ("event_time", "window_dominant_loop")]
    axes = args.var or sampled
    if len(axes) != 2:
        raise ParameterError(f"a dominance map has two axes; name two sampled constants with --var X Y "
                             f"(the samples set {', '.join(sampled) or 'none'})")
    return plot.dominance_map(ds, x=axes[0], y=axes[1])


DRAW: dict[str, Callable[[Any, argparse.Namespace], Any]] = {
    "trajectories": _trajectories,
    "fan": _fan,
    "phase": _phase,
    "sobol": _sobol,
    "morris": _morris,
    "balance-map": _balance_map,
    "checks": _checks,
    "dominance": _dominance,
    "dominance-map": _dominance_map,
}
