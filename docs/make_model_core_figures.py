"""The figures and tables of docs/model-core.md: a caller of :mod:`sdkit.kissinger.docs.core`.

Usage (from the repository root)::

    python docs/make_model_core_figures.py

Writes ``docs/img/model-core-*.{png,pdf,svg}`` and prints the markdown tables the page quotes.
"""

from __future__ import annotations

from pathlib import Path

from sdkit.kissinger.docs import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("core", Path(__file__).resolve().parents[1], __doc__))
