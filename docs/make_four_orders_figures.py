"""The figures and tables of docs/model-four-orders.md: a caller of :mod:`sdkit.kissinger.docs.four_orders`.

Usage (from the repository root)::

    python docs/make_four_orders_figures.py

Writes ``docs/img/four-orders-*.{png,pdf,svg}`` and prints the markdown tables the page quotes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sdkit.kissinger.docs import write_page

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img", type=Path, default=ROOT / "docs" / "img", help="folder for the figures (default: docs/img)")
    parser.add_argument("--robustness", action="store_true", help="also print the +-20 %% robustness table (slow)")
    args = parser.parse_args()
    metadata = {"sdkit:command": "python docs/make_four_orders_figures.py"}
    _, text = write_page("four_orders", ROOT / "models", args.img, metadata, sweeps=None)
    print(text)
    if args.robustness:
        from sdkit.kissinger.docs.four_orders import robustness_table, simulate

        print()
        print(robustness_table(ROOT / "models", simulate(ROOT / "models")[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
