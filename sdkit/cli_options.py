"""Command-line options that several ``sdkit`` commands share, each spelt once."""

from __future__ import annotations

from typing import Any

#: option -> keyword arguments of ``argparse.ArgumentParser.add_argument``
SHARED: dict[str, dict[str, Any]] = {
    "model": {"help": "Vensim .mdl file"},
    "--scenarios": {"metavar": "FILE.toml", "help": "scenarios file (default: <model>.scenarios.toml beside the model)"},
    "--loops-file": {"metavar": "FILE.toml",
                     "help": "loops file naming loops (default: <model>.loops.toml beside the model)"},
    "--engine": {"choices": ("auto", "engine", "pysd"), "default": "auto", "help": "simulation engine (default: auto)"},
    "--force": {"action": "store_true", "help": "overwrite an existing --out file"},
    "--allow-outside-range": {
        "action": "store_true",
        "help": "run values outside the constants' documented ranges (recorded in the output's provenance)",
    },
}


def add_shared(parser: Any, *options: str) -> None:
    """Add the shared ``options`` (keys of :data:`SHARED`) to ``parser``, in the order given."""
    for option in options:
        parser.add_argument(option, **SHARED[option])
