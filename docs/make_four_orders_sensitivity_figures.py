"""The figures and tables of docs/sensitivity.md: a caller of :mod:`sdkit.kissinger.docs.four_orders_sensitivity`.

Usage (from the repository root)::

    for f in sensitivity/*.toml; do sdkit sweep "$f" --force; done   # -> results/<study>/
    python docs/make_four_orders_sensitivity_figures.py   # or --results OUT/sweeps after sdkit reproduce --out OUT

Writes ``docs/img/four-orders-sensitivity-*.{png,pdf,svg}`` and prints the markdown tables the page quotes.
"""

from __future__ import annotations

from pathlib import Path

from sdkit.kissinger.docs import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("four_orders_sensitivity", Path(__file__).resolve().parents[1], __doc__))
