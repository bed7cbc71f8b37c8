from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
MODELS = ROOT / "models"
CONFORMANCE = ROOT.parent / "shared" / "conformance"


@pytest.fixture
def decay_path() -> Path:
    return DATA / "decay.mdl"


@pytest.fixture
def regions_path() -> Path:
    return DATA / "regions.mdl"


@pytest.fixture
def model_copy(tmp_path: Path):
    """Copy a test model (and its scenarios file) into a private folder."""

    def copy(name: str) -> Path:
        for source in DATA.glob(f"{name}.*"):
            (tmp_path / source.name).write_bytes(source.read_bytes())
        return tmp_path / f"{name}.mdl"

    return copy
