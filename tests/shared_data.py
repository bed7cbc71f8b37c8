"""Optional test data kept beside the project in ../shared (not part of it, never copied in)."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CONFORMANCE = SHARED / "conformance"
CORPUS = SHARED / "corpus"

_WHAT = {
    "conformance": "Vensim test models with their canonical outputs, from the SDXorg test-models collection",
    "corpus": "public Vensim models by other authors, with their sources and licences",
}


def absent(folder: Path) -> str:
    """The skip message for an optional data folder that is not there."""
    return (f"optional test data not found: {folder} ({_WHAT.get(folder.name, 'shared test data')}); "
            "the project's own tests do not need it, these compare sdkit with it when it is beside the clone")
