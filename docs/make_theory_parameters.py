"""The figures and tables of docs/theory.md: a caller of :mod:`sdkit.kissinger.docs.theory`.

Usage (from the repository root)::

    python docs/make_theory_parameters.py

Prints the markdown tables the page quotes.
"""

from __future__ import annotations

from pathlib import Path

from sdkit.kissinger.docs import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("theory", Path(__file__).resolve().parents[1], __doc__))
