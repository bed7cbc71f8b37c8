"""``sdkit diagram``: draw a model's causal-loop / stock-and-flow diagram, or write its
Vensim sketch into the model file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sdkit.cli_options import add_shared
from sdkit.errors import ParameterError


def add_diagram_parser(sub: Any, help_text: str) -> None:
    p = sub.add_parser("diagram", help=help_text)
    add_shared(p, "model", "--loops-file")
    p.add_argument("--out", metavar="FILE.svg", help="diagram to write: .svg, .pdf or .png (by the suffix)")
    p.add_argument("--loops", action="store_true", help="colour the links of the named loops (MODEL.loops.toml) and name them in a legend")
    p.add_argument("--constants", action="store_true", help="also draw the constants (hidden by default)")
    p.add_argument("--outputs", action="store_true", help="also draw the outputs, auxiliaries no other variable uses (hidden by default)")
    p.add_argument("--focus", metavar="VAR", help="only the variables within --depth links of VAR")
    p.add_argument("--depth", type=int, default=2, metavar="N", help="with --focus: links away from VAR (default 2)")
    p.add_argument("--write-sketch", action="store_true",
                   help="rewrite the model file's sketch (Vensim's diagram) from a graphviz layout; equations are kept byte for byte")
    add_shared(p, "--force")


def cmd_diagram(args: argparse.Namespace) -> int:
    from sdkit.diagram.draw import FORMATS, dot_path
    from sdkit.io import check_output_path

    if args.write_sketch:
        if args.out or args.loops or args.focus:
            raise ParameterError("--write-sketch rewrites the model file only; drop --out, --loops and --focus")
        return _write_sketch(args)
    if not args.out:
        raise ParameterError("sdkit diagram needs --out FILE.svg (or .pdf, .png), or --write-sketch")
    suffix = Path(args.out).suffix.lstrip(".").lower()
    if suffix not in FORMATS:
        raise ParameterError(f"--out {args.out}: use a .svg, .pdf or .png file")
    if args.focus is None and args.depth != 2:
        raise ParameterError("--depth goes with --focus VAR")
    check_output_path(args.out, args.force)
    dot_path()
    return _draw(args)


def _draw(args: argparse.Namespace) -> int:
    from sdkit.diagram.draw import to_dot, write_diagram
    from sdkit.diagram.structure import read_structure
    from sdkit.model import load_model

    model = load_model(args.model, numba=False)
    loops = _named_loops(model, args.loops_file) if args.loops else []
    structure = read_structure(model, constants=args.constants, outputs=args.outputs, focus=args.focus, depth=args.depth, loops=loops)
    write_diagram(to_dot(structure, mark_loops=args.loops), args.out)
    counts = {kind: sum(k == kind for k in structure.kinds.values()) for kind in ("stock", "flow", "auxiliary", "constant")}
    plural = {"stock": "stocks", "flow": "flows", "auxiliary": "auxiliaries", "constant": "constants"}
    drawn = ", ".join(f"{n} {kind if n == 1 else plural[kind]}" for kind, n in counts.items() if n)
    marked = f", {len(structure.loops)} named loop{'s' * (len(structure.loops) != 1)} marked" if args.loops else ""
    print(f"wrote {args.out} ({drawn}; {len(structure.links)} link{'s' * (len(structure.links) != 1)}{marked})")
    if args.loops and len(structure.loops) < len(loops):
        hidden = ", ".join(loop.name for loop in loops if loop not in structure.loops)
        print(f"sdkit: note: not marked (a link is not drawn; add --constants or widen --focus): {hidden}", file=sys.stderr)
    return 0


def _named_loops(model: Any, loops_file: str | None) -> list:
    from sdkit.loops.find import find_loops

    report = find_loops(model, max_loops=1, loops_file=Path(loops_file) if loops_file else None)
    if not report.named():
        raise ParameterError(f"--loops marks the named loops, and {model.path.name} has none; "
                             f"write {Path(model.path).stem}.loops.toml beside it (docs/loops.md) or pass --loops-file")
    return report.named()


def _write_sketch(args: argparse.Namespace) -> int:
    from sdkit.diagram.draw import dot_path
    from sdkit.diagram.sketch import write_sketch

    dot_path()
    summary = write_sketch(args.model)
    print(f"wrote the sketch of {args.model} ({summary})")
    return 0
