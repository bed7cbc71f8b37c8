"""The figures and tables of docs/sensitivity.md: a caller of :mod:`sdkit.kissinger.docs.four_orders_sensitivity`.

Usage (from the repository root)::

    for f in sensitivity/*.toml; do sdkit sweep "$f" --force; done   # -> results/<study>/
    python docs/make_four_orders_sensitivity_figures.py   # or --results OUT/sweeps after sdkit reproduce --out OUT

Writes ``docs/img/four-orders-sensitivity-*.{png,pdf,svg}`` and prints the markdown tables the page quotes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sdkit.kissinger.docs import write_page

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img", type=Path, default=ROOT / "docs" / "img", help="folder for the figures (default: docs/img)")
    parser.add_argument("--results", type=Path, default=ROOT / "results", help="folder holding <study>/ (default: results/, where sdkit sweep writes)")
    args = parser.parse_args()
    metadata = {"sdkit:command": "python docs/make_four_orders_sensitivity_figures.py"}
    _, text = write_page("four_orders_sensitivity", ROOT / "models", args.img, metadata, sweeps=args.results)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
