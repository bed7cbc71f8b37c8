"""``sdkit loops``: list a model's feedback loops, their polarity and the names a loops file gives them;
with ``--dominance``, score them in a run or an ensemble (Loops That Matter)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from sdkit.cli_options import add_shared
from sdkit.errors import ParameterError
from sdkit.io import check_output_path
from sdkit.loops.find import MAX_LOOPS, LoopReport

ARROW = " -> "


def add_loops_parser(sub: Any, help_text: str) -> None:
    p = sub.add_parser("loops", help=help_text)
    add_shared(p, "model", "--loops-file")
    p.add_argument("--json", action="store_true", help="print a JSON list of {id, name, polarity, variables}")
    p.add_argument("--named", action="store_true", help="only the loops the loops file names")
    p.add_argument("--max-loops", type=int, default=MAX_LOOPS, metavar="N",
                   help=f"stop after N loops and say so (default {MAX_LOOPS:,})")
    p.add_argument("--max-length", type=int, metavar="N", help="only loops of at most N variables")
    p.add_argument("--dominance", action="store_true",
                   help="run a scenario (or --samples) and write its loop scores (Loops That Matter) to --out")
    p.add_argument("--scenario", metavar="NAME", help="with --dominance: the scenario to run (default: the model's own values)")
    p.add_argument("--samples", metavar="FILE.csv", help="with --dominance: one run per row (columns: constants) on top of the scenario")
    p.add_argument("--before", metavar="NAME<LEVEL", help="with --dominance: also name the loop dominant before NAME first goes below "
                   "(NAME>LEVEL: above) LEVEL, per run")
    p.add_argument("--years", type=float, default=10.0, metavar="Y", help="with --before: the window before the event (default 10)")
    p.add_argument("--bins", type=int, default=5, metavar="N",
                   help="with --before and --samples: bins of each sampled constant in the summary (default 5)")
    p.add_argument("--out", metavar="FILE.nc", help="with --dominance: netCDF file of loop scores (loop, [sample,] time)")
    add_shared(p, "--force")


def cmd_loops(args: argparse.Namespace) -> int:
    from sdkit.loops.find import find_loops
    from sdkit.model import load_model

    if (args.scenario or args.out or args.samples or args.before) and not args.dominance:
        raise ParameterError("--scenario, --samples, --before and --out go with --dominance; add --dominance to score a run")
    if args.dominance and not args.out:
        raise ParameterError("--dominance writes loop scores; add --out FILE.nc")
    if args.bins < 1:
        raise ParameterError(f"--bins must be at least 1, got {args.bins}")
    if not args.years > 0:
        raise ParameterError(f"--years must be a positive number of years, got {args.years:g}")
    if args.out:
        check_output_path(args.out, args.force)
    model = load_model(args.model, numba=False)
    report = find_loops(model, max_loops=args.max_loops, max_length=args.max_length,
                        loops_file=Path(args.loops_file) if args.loops_file else None)
    loops = report.named() if args.named else report.loops
    if args.dominance:
        return _write_dominance(args, model, report)
    if args.json:
        print(json.dumps([loop.as_dict() for loop in loops], indent=1, ensure_ascii=False))
    else:
        print(summary(report, model))
        if loops:
            print()
            print(loops_table(loops))
    for note in notes(report):
        print(f"sdkit: note: {note}", file=sys.stderr)
    return 0


def _write_dominance(args: argparse.Namespace, model: Any, report: LoopReport) -> int:
    from sdkit.cli import command_line, read_samples
    from sdkit.io import write_netcdf
    from sdkit.loops.dominance import score_scenario
    from sdkit.loops.samples import sampled_name
    from sdkit.loops.windows import (
        dominance_before,
        parameter_table,
        parse_event,
        window_by_parameter,
        window_table,
    )
    from sdkit.scenarios import target_of

    samples = read_samples(args.samples) if args.samples else None
    keep = report.named() if args.named else None
    event = parse_event(args.before) if args.before else None
    watched = [model.resolve(event.variable)] if event else []
    if watched and model.variables[watched[0]].dims:
        raise ParameterError(f"--before takes a variable without subscripts; {event.variable!r} is subscripted by "
                             f"{', '.join(model.variables[watched[0]].dims)} (watch a sum or an extreme of it, "
                             "defined as a variable of the model)")
    if samples is None:  # one run: its stocks too, the trajectories the dominance figure draws
        watched += [stock for stock in model.stocks if stock not in watched]
    scored = score_scenario(model, args.scenario, report.loops, samples, keep, watched, _chunk_progress)
    sampled = scored[[sampled_name(target_of(model, str(c))) for c in samples.columns]] if samples is not None else None
    if event:
        window = dominance_before(scored, scored[watched[0]], event, args.years)
        scored = scored.assign(window)
        if sampled is not None:
            by_parameter = window_by_parameter(window, sampled, args.bins)
            scored = scored.assign(by_parameter)
    scored.attrs["command"] = command_line(args)
    write_netcdf(with_ascii_ids(scored), args.out)
    print(dominance_table(scored, report))
    if event:
        names = {loop.id: loop.name or ARROW.join(loop.variables) for loop in report.loops}
        print(window_table(window, names, event, args.years, sampled))
        if sampled is not None:
            print(f"\nthe same, as a function of each sampled constant (share of the runs in each of {args.bins} "
                  "bins of equal counts, or per value):\n")
            print(parameter_table(by_parameter, sampled))
    runs = f"{len(samples)} runs of " if samples is not None else ""
    print(f"wrote {args.out} (loop scores of {scored.sizes['loop']} loops, {runs}scenario {scored.attrs['scenario']})")
    for note in notes(report):
        print(f"sdkit: note: {note}", file=sys.stderr)
    return 0


def _chunk_progress(chunks: list) -> Any:
    from tqdm import tqdm

    return tqdm(chunks, desc="chunks", unit="chunk", file=sys.stderr, disable=len(chunks) < 2, leave=False)


def with_ascii_ids(scored: Any) -> Any:
    """``dominant_loop`` as fixed-width characters (ids are ASCII), which netCDF writes at once
    and xarray reads back as text, instead of one variable-length string per run and time."""
    ids = scored["dominant_loop"]
    values = np.ascontiguousarray(ids.values, dtype=str)
    width = values.dtype.itemsize // 4
    codes = values.view(np.uint32).reshape(*values.shape, max(width, 1)) if width else None
    if codes is None or codes.max(initial=0) > 127:
        return scored
    chars = codes.astype(np.uint8).view(f"S{width}").reshape(values.shape)
    return scored.assign(dominant_loop=(ids.dims, chars, {**ids.attrs, "_Encoding": "utf-8"}))


def dominance_table(scored: Any, report: LoopReport, share: float = 0.05) -> str:
    """The named loops, and every loop that has the largest |loop score| at least ``share``
    of the time: mean relative score, largest |relative score|, time dominant (over all
    times, and all samples of an ensemble; scores of loops the file does not hold: -)."""
    from sdkit.report import table

    shares = dict(zip((str(i) for i in scored["leading_loop"].values), scored["leading_share"].values, strict=True))
    held = [str(v) for v in scored["loop"].values]
    rows = []
    for loop in report.loops:
        dominant = float(shares.get(loop.id, 0.0))
        if not (loop.name or dominant >= share):
            continue
        if loop.id in held:
            values = scored["relative_loop_score"].sel(loop=loop.id).isel(time=slice(1, None)).values
            mean, largest = f"{values.mean():+.3f}", f"{abs(values).max():.3f}"
        else:
            mean = largest = "-"
        rows.append([loop.id, loop.name, loop.polarity, mean, largest, f"{dominant:.0%}", ARROW.join(loop.variables)])
    header = ["id", "name", "polarity", "mean relative score", "max |relative|", "time dominant", "variables"]
    return table(header, rows)


def summary(report: LoopReport, model: Any) -> str:
    """How many loops of each polarity, and the strongly connected components that hold them."""
    counts = Counter(loop.polarity for loop in report.found)
    polarities = ", ".join(f"{counts[p]} {p}" for p in ("reinforcing", "balancing", "undetermined") if counts[p])
    stocks = {v.name for v in model.variables.values() if v.kind == "stock"}
    bound = f" of at most {report.max_length} variables" if report.max_length else ""
    lines = [f"{report.model}: {'at least ' if report.truncated else ''}{len(report.found)} feedback "
             f"loop{'s' * (len(report.found) != 1)}{bound}{f' ({polarities})' if polarities else ''} "
             f"in {len(report.components)} strongly connected component{'s' * (len(report.components) != 1)}"]
    for number, component in enumerate(report.components, 1):
        held = [name for name in component if name in stocks]
        lines.append(f"  component {number}: {len(component)} variable{'s' * (len(component) != 1)}, "
                     f"{len(held)} stock{'s' * (len(held) != 1)}{': ' if held else ''}{', '.join(held)}")
    named = report.named()
    if named:
        lines.append(f"named loops: {', '.join(f'{loop.name} ({loop.polarity})' for loop in named)}")
    for loop in named:
        unsigned = "; ".join(f"{a}{ARROW}{b}" for a, b in loop.unsigned_links())
        if unsigned:
            lines.append(f"  {loop.name} is undetermined: no fixed sign for {unsigned}")
    return "\n".join(lines)


def loops_table(loops: list) -> str:
    from sdkit.report import table

    rows = [[loop.id, loop.name or "", loop.polarity, len(loop.variables), ARROW.join(loop.variables)]
            for loop in loops]
    return table(["id", "name", "polarity", "length", "variables"], rows)


def notes(report: LoopReport) -> list[str]:
    """What the reader must know to read the list: truncation, no loops, assumed signs."""
    found = []
    if report.truncated:
        found.append(f"stopped after {report.max_loops:,} loops (--max-loops); the model has more. "
                     "Raise --max-loops, or list short loops only with --max-length N")
    elif not report.found:
        bound = f" of at most {report.max_length} variables" if report.max_length else ""
        found.append(f"{report.model} has no feedback loops{bound}: no variable depends on itself")
    if report.assumed_signs:
        found.append(f"stocks without a documented range taken to keep the sign of their initial value: "
                     f"{', '.join(report.assumed_signs)} (give each a range [min,max] in its units to say so)")
    return found
