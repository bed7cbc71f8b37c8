"""The ``sdkit`` command line.

Every command turns sdkit's errors into one line on stderr and exit code 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sdkit.cli_options import add_shared
from sdkit.errors import OutputError, ParameterError, SdkitError, SdkitWarning

EXIT_BAD_INPUT = 2
EXIT_CHECK_FAILED = 1
EXIT_INTERNAL = 3

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str) -> Callable:
    def register(function: Callable[[argparse.Namespace], int]) -> Callable:
        COMMANDS[name] = function
        return function

    return register


def command_line(args: argparse.Namespace) -> str:
    """The command as typed (quoted for a shell), for the provenance of output files."""
    import shlex

    return "sdkit " + shlex.join(getattr(args, "argv", None) or sys.argv[1:])


def parse_set(items: Sequence[str] | None) -> dict[str, float]:
    """``["name=0.5", ...]`` -> ``{"name": 0.5}``; malformed items raise ParameterError."""
    values: dict[str, float] = {}
    for item in items or []:
        name, equals, text = item.partition("=")
        if not equals or not name.strip():
            raise ParameterError(f"--set {item!r} must look like NAME=VALUE, e.g. --set 'supremacy claim=0.2'")
        try:
            values[name.strip()] = float(text)
        except ValueError:
            raise ParameterError(f"--set {item!r}: {text!r} is not a number; give a number such as 0.5") from None
    return values


def _progress(total_label: str) -> Callable:
    from tqdm import tqdm

    def wrap(iterable: Any) -> Any:
        items = list(iterable)
        return tqdm(items, desc=total_label, disable=len(items) < 2, file=sys.stderr, leave=False)

    return wrap


@command("run")
def _run(args: argparse.Namespace) -> int:
    from sdkit.check_samples import answerable, read_suite, run_checks_report, with_check_variables
    from sdkit.checks import scenarios_needed
    from sdkit.io import check_output_path, write_netcdf
    from sdkit.model import load_model
    from sdkit.report import final_values
    from sdkit.run import run

    if args.out:
        check_output_path(args.out, args.force)
    if args.all and args.scenario:
        raise ParameterError("give either --all or --scenario, not both")
    if len(args.model) > 1:
        return _run_models(args)
    model = load_model(args.model[0], scenarios=args.scenarios, allow_outside_range=args.allow_outside_range,
                       numba=False)
    suite = read_suite(model, args.checks) if args.checks else None
    names = list(model.scenarios) if args.all else args.scenario
    if suite is not None and not names:  # the scenarios the checks read as they are
        names = scenarios_needed(answerable(suite.checks, list(model.scenarios))[0])
    dataset = run(
        model,
        scenarios=names,
        overrides=parse_set(args.set),
        variables=with_check_variables(model, args.vars, suite),
        engine=args.engine,
        progress=_progress("scenarios"),
        allow_outside_range=args.allow_outside_range,
    )
    print(final_values(dataset, model.stocks if not args.vars else list(dataset.data_vars)))
    verdict = 0
    if suite is not None:
        text, failed = run_checks_report(model, suite, dataset, args.checks)
        note = "note: --set applies to every run, so these verdicts are of the changed model\n" if args.set else ""
        print(f"\n{note}{text}")
        verdict = EXIT_CHECK_FAILED if failed else 0
    if args.out:
        dataset.attrs["command"] = command_line(args)
        if args.checks:
            dataset.attrs["checks_file"] = str(Path(args.checks).resolve())
        write_netcdf(dataset, args.out)
        print(f"wrote {args.out}")
    return verdict


def _run_models(args: argparse.Namespace) -> int:
    """``sdkit run A.mdl B.mdl ...``: the same scenarios of each model, along a ``model`` dimension."""
    from sdkit.compare import compare
    from sdkit.io import write_netcdf
    from sdkit.model import load_model
    from sdkit.report import final_values

    if args.checks:
        raise ParameterError("--checks reads one model's runs; compare checks of two models with "
                             "`sdkit check VARIANT.mdl --baseline BASE.mdl --checks FILE`")
    if args.all:
        raise ParameterError("--all runs one model's scenarios; with several models name them with --scenario")
    models = [load_model(path, scenarios=args.scenarios, allow_outside_range=args.allow_outside_range, numba=False)
              for path in args.model]
    dataset = compare(models, scenarios=args.scenario, overrides=parse_set(args.set), variables=args.vars,
                      engine=args.engine, progress=_progress("scenarios"),
                      allow_outside_range=args.allow_outside_range)
    stocks = list(dict.fromkeys(name for model in models for name in model.stocks))
    print(final_values(dataset, list(dataset.data_vars) if args.vars else stocks))
    if args.out:
        dataset.attrs["command"] = command_line(args)
        write_netcdf(dataset, args.out)
        print(f"wrote {args.out}")
    return 0


@command("check")
def _check(args: argparse.Namespace) -> int:
    from sdkit.check_runs import (
        dt_pairs,
        margin_moves,
        run_checks,
        run_knockouts,
        validate_settings,
    )
    from sdkit.check_samples import read_suite
    from sdkit.model import load_model
    from sdkit.report import baseline_table, checks_table
    from sdkit.units import check_units

    if args.units:
        return _check_units_only(args)
    if args.robust is not None and args.dt_check:
        raise ParameterError("give --robust or --dt-check, not both; run them one after the other")
    if args.robust is not None:
        return _check_robust(args)
    if args.out:
        raise ParameterError("--out writes the table of --robust; add --robust N")
    model = load_model(args.model, scenarios=args.scenarios, allow_outside_range=args.allow_outside_range)
    suite = read_suite(model, args.checks)
    units = check_units(model)  # a units field that does not parse stops here, before any run
    results = run_checks(model, suite.checks, engine=args.engine, progress=_progress("scenarios"))
    if args.baseline:
        base = load_model(args.baseline, scenarios=args.scenarios, allow_outside_range=args.allow_outside_range)
        validate_settings(base, [*suite.checks, *suite.knockouts])
        print(baseline_table(run_checks(base, suite.checks, engine=args.engine), results,
                             base.path.name, model.path.name))
    else:
        print(checks_table(results))
    failed = [r for r in results if not r.passed and not r.xfail]
    _print_tally(results, failed)
    knockouts = run_knockouts(model, suite, results, engine=args.engine) if suite.knockouts else []
    if knockouts:
        _print_knockouts(knockouts)
    uncovered = suite.modes_without_knockout()
    if uncovered:
        print(f"reference modes no knockout covers: {', '.join(uncovered)}")
    pairs = dt_pairs(model, suite.checks, results, engine=args.engine) if args.dt_check else []
    changed = [(a, b) for a, b in pairs if a.passed != b.passed]
    if args.dt_check:
        print(_dt_report(changed, margin_moves(pairs)))
    print(f"\n{units.text()}")
    failures = failed or changed or not all(k.passed for k in knockouts) or not units.passed
    return EXIT_CHECK_FAILED if failures else 0


def _check_units_only(args: argparse.Namespace) -> int:
    """``sdkit check --units MODEL``: the units check alone (exit 1 when an equation's units disagree)."""
    from sdkit.model import load_model
    from sdkit.units import check_units

    others = [flag for flag, given in (("--robust", args.robust is not None), ("--dt-check", args.dt_check),
                                       ("--baseline", args.baseline), ("--checks", args.checks),
                                       ("--out", args.out)) if given]
    if others:
        raise ParameterError(f"--units runs only the units check; drop {others[0]} or run it separately")
    report = check_units(load_model(args.model, scenarios=args.scenarios, allow_outside_range=args.allow_outside_range,
                                    numba=False))
    print(report.text())
    return 0 if report.passed else EXIT_CHECK_FAILED


def _print_tally(results: list, failed: list) -> None:
    """How many checks passed, failed and were expected to fail (and why)."""
    expected = [r for r in results if r.xfail]
    print(f"{len(results) - len(failed) - len(expected)} passed, {len(failed)} failed, {len(expected)} expected to fail")
    for r in expected:
        print(f"  {r.id}: expected to fail: {r.xfail}")


def _print_knockouts(knockouts: list) -> None:
    """The mechanism tests: their table, each verdict with its description, and the tally."""
    from sdkit.report import knockouts_table

    print(f"\nmechanism tests: each passes only when every check it names fails under the knockout\n{knockouts_table(knockouts)}")
    for k in knockouts:
        print(f"  {k.knockout.id}: {'pass' if k.passed else 'FAIL'}: {k.knockout.description}")
    print(f"{sum(k.passed for k in knockouts)} of {len(knockouts)} mechanism tests pass")


def _dt_report(changed: list, moved: list) -> str:
    from sdkit.report import distinct, signed, table

    def rows(pairs: list) -> list:
        out = []
        for a, b in pairs:
            value, half = distinct(a.value, b.value)
            out.append([a.id, value, half, a.op, f"{a.threshold:.6g}", signed(a.margin), signed(b.margin),
                        "pass" if a.passed else "FAIL", "pass" if b.passed else "FAIL"])
        return out

    header = ["check", "measured at dt", "at dt/2", "op", "threshold", "margin at dt", "at dt/2", "verdict at dt", "at dt/2"]
    if changed:
        text = f"dt check: {len(changed)} verdict(s) change when TIME STEP is halved\n{table(header, rows(changed))}"
    else:
        text = "dt check: every verdict is the same at TIME STEP and at TIME STEP/2"
    if moved:
        text += (f"\nsame verdict, but the margin moves by more than half of itself at TIME STEP/2:\n"
                 f"{table(header, rows(moved))}")
    return text


def _check_robust(args: argparse.Namespace) -> int:
    from sdkit.check_robust import robust_checks, write_robust_csv
    from sdkit.check_samples import read_suite
    from sdkit.io import check_output_path
    from sdkit.model import load_model
    from sdkit.report import robust_table

    if args.robust < 1:
        raise ParameterError(f"--robust must be at least 1 draw, got {args.robust}")
    if not 0 < args.spread < 1:
        raise ParameterError(f"--spread must be between 0 and 1 (a fraction, e.g. 0.1), got {args.spread}")
    if args.out:
        check_output_path(args.out, args.force)
    model = load_model(args.model, scenarios=args.scenarios, allow_outside_range=args.allow_outside_range)
    suite = read_suite(model, args.checks)
    report = robust_checks(model, suite.checks, draws=args.robust, spread=args.spread, seed=args.seed,
                           progress=_progress("scenario runs"))
    print(robust_table(report))
    named = {i for k in suite.knockouts for i in k.must_fail}
    never = [check for check, _, rate, _ in report.check_rows() if rate == 1.0 and check not in named]
    if never:
        print(f"pass in every draw and named by no knockout (can anything make them fail?): {', '.join(never)}")
    if args.out:
        for written in write_robust_csv(report, args.out, command=command_line(args)):
            print(f"wrote {written}")
    return 0


def read_samples(path: str) -> Any:
    """A CSV of parameter sets: one column per parameter, one row per run."""
    import io

    import pandas as pd

    from sdkit.errors import ParameterError
    from sdkit.io import looked_for, read_input

    if not Path(path).exists():
        raise ParameterError(f"samples file {path} does not exist ({looked_for(path)}); check the path given to --samples")
    data = read_input(path, "samples file", ParameterError)
    try:
        frame = pd.read_csv(io.BytesIO(data))
    except pd.errors.EmptyDataError:
        raise ParameterError(f"samples file {path} is empty; give a header row and one row per run") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ParameterError(f"samples file {path} is not a valid CSV: {str(exc).splitlines()[0]}") from None
    return frame


@command("ensemble")
def _ensemble(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sdkit.check_samples import suite_for_samples, with_check_variables
    from sdkit.ensemble import ensemble
    from sdkit.executors import executor
    from sdkit.io import check_output_path, write_netcdf
    from sdkit.locks import interrupt_on_terminate
    from sdkit.model import load_model

    if args.chunk_size < 1:
        raise ParameterError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    check_output_path(args.out, args.force)
    model = load_model(args.model, scenarios=args.scenarios, allow_outside_range=args.allow_outside_range)
    if args.checks and (args.final or args.times):
        raise ParameterError("--checks reads whole trajectories; drop --final and --times")
    suite = suite_for_samples(model, args.checks, args.scenario) if args.checks else None
    samples = read_samples(args.samples)
    n_chunks = -(-len(samples) // args.chunk_size)

    def progress(chunks: Any) -> Any:
        return tqdm(chunks, total=n_chunks, desc="chunks", unit="chunk", file=sys.stderr, disable=n_chunks < 2)

    with interrupt_on_terminate(), executor(args.workers, args.scheduler) as client:
        dataset = ensemble(
            model,
            samples,
            variables=with_check_variables(model, args.vars or (model.stocks if suite else None), suite),
            save="final" if args.final else (args.times or "all"),
            scenario=args.scenario,
            chunk_size=args.chunk_size,
            executor=client,
            store=args.store,
            progress=progress,
            max_memory=None if args.max_memory is None else args.max_memory * 1e9,
            allow_outside_range=args.allow_outside_range,
        )
    dataset.attrs["command"] = command_line(args)
    write_netcdf(dataset, args.out)
    print(f"{len(samples)} runs of {model.path.name}; wrote {args.out}")
    if args.summary:
        from sdkit.summary import final_quantiles_table

        print(final_quantiles_table(dataset))
    if suite is not None:
        from sdkit.check_samples import checks_over_samples, samples_checks_table

        varied = {str(column): samples[column].to_numpy(dtype=float) for column in samples.columns}
        results, skipped = checks_over_samples(model, suite.checks, dataset, args.scenario, varied)
        print(samples_checks_table(results, skipped, len(samples), args.checks))
    return 0


@command("scenarios")
def _scenarios(args: argparse.Namespace) -> int:
    from sdkit.model import load_model
    from sdkit.report import table

    model = load_model(args.model, scenarios=getattr(args, "scenarios", None), numba=False)
    if not model.scenarios:
        print(f"{model.path.name} has no scenarios: looked for {model.scenarios_file}; write one there "
              "or pass --scenarios FILE")
        return 0
    print(table(["scenario", "description"], [[s.name, s.description] for s in model.scenarios.values()]))
    return 0


@command("params")
def _params(args: argparse.Namespace) -> int:
    from sdkit.model import load_model
    from sdkit.report import markdown_table, parameter_rows, table

    model = load_model(args.model, scenarios=getattr(args, "scenarios", None), numba=False)
    header, rows = parameter_rows(model, args.grep)
    if not rows and args.grep is None:
        print(f"{model.path.name} has no constants: nothing a scenario, --set or a sweep can set")
        return 0
    if not rows:
        raise ParameterError(f"no constant of {model.path.name} matches --grep {args.grep!r}; "
                             "try a shorter pattern or drop --grep")
    if args.format == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerows([header, *rows])
    elif args.format == "markdown":
        print(markdown_table(header, rows))
    else:
        print(table(header, [[*row[:-1], row[-1][:60]] for row in rows]))
    return 0


@command("reproduce")
def _reproduce(args: argparse.Namespace) -> int:
    from sdkit.io import looked_for
    from sdkit.reproduce import reproduce

    models = Path(args.models)
    if not models.is_dir():
        raise SdkitError(f"models folder {models} does not exist ({looked_for(models)}); run from the project root "
                         "or pass --models DIR")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SdkitError(f"--out {out} is a file; give a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create --out {out}: {exc.strerror}; choose a writable folder") from None
    if not os.access(out, os.W_OK):
        raise OutputError(f"--out {out} is not writable; choose a writable folder")
    context = reproduce(models, out, quick=args.quick, echo=print)
    print(f"== wrote {len(context.written)} files into {out}/")
    for path in context.written:
        print(f"  {path}")
    if context.failed_checks:
        print(f"failed reference-mode checks: {', '.join(context.failed_checks)}")
        return EXIT_CHECK_FAILED
    return 0


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: what is wrong and where to look."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


#: Commands whose parser and implementation live in their own package: (module, parser adder, name).
#: Commands that live in other modules: (module, function adding the parser, command, help).
#: Only the module of the command being run is imported, so ``sdkit run`` never loads
#: matplotlib, networkx, SALib or the web server.
PLUGIN_COMMANDS = [
    ("sdkit.sensitivity.cli", "add_sweep_parser", "sweep",
     "run a sensitivity study (Sobol, Morris, ...) from a TOML file"),
    ("sdkit.plot.cli", "add_plot_parser", "plot", "draw a figure from a saved result (.nc) in the publication style"),
    ("sdkit.loops.cli", "add_loops_parser", "loops", "list a model's feedback loops: variables, polarity, id and name"),
    ("sdkit.diagram.cli", "add_diagram_parser", "diagram",
     "draw a model's causal-loop diagram (SVG, PDF, PNG) or write its Vensim sketch"),
    ("sdkit.explore.cli", "add_explore_parser", "explore",
     "explore a model in the browser: sliders, live runs, uncertainty, checks"),
]


def _add_run_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="run scenarios of a model (or of several, side by side), print final values, write netCDF")
    p.add_argument("model", nargs="+", help="Vensim .mdl file; several files run the same scenarios along a 'model' dimension")
    p.add_argument("--scenario", action="append", metavar="NAME", help="scenario to run (repeatable)")
    add_shared(p, "--scenarios")
    p.add_argument("--checks", metavar="FILE.toml", help="also evaluate the checks of FILE that these runs answer (exit 1 if one fails); "
                   "without --scenario/--all, run the scenarios they read")
    p.add_argument("--all", action="store_true", help="run every scenario of the model")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="parameter value on top of each scenario (repeatable)")
    p.add_argument("--vars", nargs="+", metavar="NAME", help="variables to keep (default: stocks and auxiliaries)")
    add_shared(p, "--engine")
    p.add_argument("--out", metavar="FILE.nc", help="write results with provenance to this netCDF file")
    add_shared(p, "--force", "--allow-outside-range")


def _add_check_parser(sub: Any) -> None:
    p = sub.add_parser("check", help="run a model's reference-mode checks")
    add_shared(p, "model")
    p.add_argument("--checks", metavar="FILE.toml", help="checks file (default: <model>.checks.toml)")
    p.add_argument("--baseline", metavar="BASE.mdl", help="also check BASE (same --scenarios and --checks) and compare verdicts, values and margins")
    add_shared(p, "--scenarios", "--engine")
    p.add_argument("--dt-check", action="store_true", help="rerun every check at TIME STEP/2 and list verdicts that change")
    p.add_argument("--units", action="store_true",
                   help="check only that every equation's units agree (plain `check` runs this too)")
    p.add_argument("--robust", type=int, metavar="N", help="rerun the checks in N draws of the constants that are not scenario levers")
    p.add_argument("--spread", type=float, default=0.1, metavar="S", help="with --robust: multiply each constant by U(1-S, 1+S) (default 0.1)")
    p.add_argument("--seed", type=int, default=0, metavar="K", help="with --robust: random seed (default 0)")
    p.add_argument("--out", metavar="FILE.csv", help="with --robust: write check,mode,pass_rate,median_margin")
    add_shared(p, "--force")
    p.add_argument("--allow-outside-range", action="store_true",
                   help="accept scenario values outside the constants' documented ranges")


def _add_ensemble_parser(sub: Any) -> None:
    p = sub.add_parser("ensemble", help="run a model once per row of a CSV of parameter sets")
    add_shared(p, "model")
    p.add_argument("--samples", required=True, metavar="FILE.csv", help="one column per parameter, one row per run")
    p.add_argument("--out", required=True, metavar="FILE.nc", help="netCDF file to write")
    p.add_argument("--final", action="store_true", help="keep final values only")
    p.add_argument("--times", type=float, nargs="+", metavar="T", help="keep these times only")
    p.add_argument("--vars", nargs="+", metavar="NAME", help="variables to keep (default: the stocks)")
    p.add_argument("--scenario", metavar="NAME", help="scenario every run starts from")
    add_shared(p, "--scenarios")
    p.add_argument("--chunk-size", type=int, default=16384, metavar="N", help="runs per engine call (default 16384)")
    p.add_argument("--workers", type=int, metavar="N", help="run chunks on a local dask cluster of N processes")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run chunks on a running dask scheduler")
    add_shared(p, "--force")
    p.add_argument("--store", metavar="DIR", help="keep finished chunks in DIR; rerunning the same command after a crash computes only the missing ones")
    p.add_argument("--max-memory", type=float, metavar="GB", help="largest result the ensemble may hold (default: half the machine's memory)")
    p.add_argument("--summary", action="store_true", help="print quantiles (5, 25, 50, 75, 95 %%) of each variable's final value")
    p.add_argument("--checks", metavar="FILE.toml",
                   help="print each check of FILE that reads the --scenario run: its pass share and margins over the runs")
    add_shared(p, "--allow-outside-range")


def _add_scenarios_parser(sub: Any) -> None:
    p = sub.add_parser("scenarios", help="list a model's scenarios")
    add_shared(p, "model", "--scenarios")


def _add_reproduce_parser(sub: Any) -> None:
    p = sub.add_parser("reproduce", help="regenerate every result, table and figure from scratch")
    p.add_argument("--out", default="results", metavar="DIR", help="output folder (default: results)")
    p.add_argument("--models", default="models", metavar="DIR", help="models folder (default: models)")
    p.add_argument("--quick", action="store_true", help="smaller samples (marked as such in the outputs)")


def _add_params_parser(sub: Any) -> None:
    p = sub.add_parser("params", help="list a model's constants: default, units, range, description")
    add_shared(p, "model")
    p.add_argument("--grep", metavar="PATTERN", help="only constants whose name or description contains PATTERN (case-insensitive)")
    p.add_argument("--format", choices=("text", "csv", "markdown"), default="text",
                   help="a text table (default), CSV, or a Markdown table for a paper's appendix")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``argv``, only the command it names gets its full
    parser (the others are listed by name and help), so only that command's module is imported."""
    chosen = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    parser = _Parser(
        prog="sdkit",
        description="System-dynamics models of international order: run, check, sweep, plot.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_run_parser, _add_check_parser, _add_ensemble_parser, _add_scenarios_parser,
                _add_reproduce_parser, _add_params_parser):
        add(sub)
    for module, add_parser, command, help_text in PLUGIN_COMMANDS:
        if argv is not None and command != chosen:
            sub.add_parser(command, help=help_text, add_help=False)
            continue
        plugin = importlib.import_module(module)
        getattr(plugin, add_parser)(sub, help_text)
        COMMANDS[command] = getattr(plugin, f"cmd_{command}")
    return parser


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """sdkit's warnings as one line on stderr, without the source line; another library's
    warnings (numpy, xarray, ...) go to the debug log (``--debug`` shows them in full)."""
    text = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
    if not issubclass(category, SdkitWarning):
        logging.getLogger("sdkit").debug("%s: %s (%s:%s)", category.__name__, text, filename, lineno)
        return
    print(f"sdkit: warning: {text}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush does not raise again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sdkit`` console script (``argv``: the arguments, when not the program's)."""
    if argv is None:  # the program: what is alive at the end is left to the process's exit
        code = main(sys.argv[1:])
        gc.freeze()  # Python's last collection would walk every object of pandas, xarray, ... (0.05-0.1 s)
        return code
    argv = list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s")
    with warnings.catch_warnings():
        if not args.debug:
            warnings.filterwarnings("ignore", module=r"pysd\..*")
            warnings.showwarning = _show_warning
        try:
            return COMMANDS[args.command](args)
        except SdkitError as exc:
            if args.debug:
                raise
            print(f"sdkit: error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            print("sdkit: interrupted; finished results were kept", file=sys.stderr)
            return 130
        except BrokenPipeError:  # the reader went away (`sdkit params MODEL | head`): end quietly
            _silence_stdout()
            return 0
        except Exception as exc:  # a bug in sdkit or a library: one line, unless --debug
            if args.debug:
                raise
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            print(
                f"sdkit: internal error: {type(exc).__name__}: {reason}; this is a bug, "
                "rerun with --debug and report the traceback",
                file=sys.stderr,
            )
            return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
