"""The figures and tables of docs/model-four-orders.md: a caller of :mod:`sdkit.kissinger.docs.four_orders`.

Usage (from the repository root)::

    python docs/make_four_orders_figures.py

Writes ``docs/img/four-orders-*.{png,pdf,svg}`` and prints the markdown tables the page quotes.
"""

from __future__ import annotations

from pathlib import Path

from sdkit.kissinger.docs import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("four_orders", Path(__file__).resolve().parents[1], __doc__))
