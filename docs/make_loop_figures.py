"""The figures and tables of docs/loops.md: a caller of :mod:`sdkit.kissinger.docs.loops`.

Usage (from the repository root)::

    python docs/make_loop_figures.py

Scores the named loops of models/kissinger_core.mdl in the scenario of each reference
mode (RM1-RM5, H1, H2) and on an 8 x 8 grid of Versailles runs, then those of
models/four_orders.mdl in the scenarios of RM6 and RM7, writes
``docs/img/loops-*.{png,pdf,svg}`` and prints the markdown tables the page quotes
(a few minutes on two cores).
"""

from __future__ import annotations

from pathlib import Path

from sdkit.kissinger.docs import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("loops", Path(__file__).resolve().parents[1], __doc__))
