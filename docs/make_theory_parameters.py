"""The figures and tables of docs/theory.md: a caller of :mod:`sdkit.kissinger.docs.theory`.

Usage (from the repository root)::

    python docs/make_theory_parameters.py

Prints the markdown tables the page quotes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sdkit.kissinger.docs import write_page

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img", type=Path, default=ROOT / "docs" / "img", help="folder for the figures (default: docs/img)")
    args = parser.parse_args()
    metadata = {"sdkit:command": "python docs/make_theory_parameters.py"}
    _, text = write_page("theory", ROOT / "models", args.img, metadata, sweeps=None)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
