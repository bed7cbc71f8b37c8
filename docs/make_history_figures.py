"""The figures and tables of docs/history.md: a caller of :mod:`sdkit.kissinger.docs.history`.

Usage (from the repository root)::

    python docs/make_history_figures.py

Writes ``docs/img/history-*.{png,pdf,svg}`` and prints the markdown tables the page quotes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sdkit.kissinger.docs import write_page

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img", type=Path, default=ROOT / "docs" / "img", help="folder for the figures (default: docs/img)")
    parser.add_argument("--grid", action="store_true", help="also print how the checks fare on a grid of scenario values (slow)")
    args = parser.parse_args()
    metadata = {"sdkit:command": "python docs/make_history_figures.py"}
    _, text = write_page("history", ROOT / "models", args.img, metadata, sweeps=None)
    print(text)
    if args.grid:
        from sdkit.kissinger.docs.history import grid_table, simulate

        print()
        print(grid_table(ROOT / "models", simulate(ROOT / "models")[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
