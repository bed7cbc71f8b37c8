import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
MODELS = ROOT / "models"
CONFORMANCE = ROOT.parent / "shared" / "conformance"
#: a model whose TIME STEP, SAVEPER and FINAL TIME change with Time
VARYING_TIME_STEP = DATA / "functions" / "varying_time_step.mdl"


@pytest.fixture
def decay_path() -> Path:
    return DATA / "decay.mdl"


@pytest.fixture
def regions_path() -> Path:
    return DATA / "regions.mdl"


@pytest.fixture(scope="session")
def varying_time_step_pysd():
    """PySD's own run of :data:`VARYING_TIME_STEP` (no sdkit between), the oracle of its changing time grid."""
    import warnings

    from sdkit.engine.oracles import pysd_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pysd_model(VARYING_TIME_STEP).run()


@pytest.fixture
def model_copy(tmp_path: Path):
    """Copy a test model (and its scenarios file) into a private folder."""

    def copy(name: str) -> Path:
        for source in DATA.glob(f"{name}.*"):
            (tmp_path / source.name).write_bytes(source.read_bytes())
        return tmp_path / f"{name}.mdl"

    return copy


def pytest_configure(config):
    """No background compile of a large model's blocks after its first compile, in every test but those of it.

    Such a compile runs at low priority, one at a time per process: started by one test, it would queue
    ahead of the background compile another test of the same worker waits for
    (tests/engine/test_kernel_choice.py, which turns it on where it tests it).
    """
    os.environ["SDKIT_NUMBA_PREWARM"] = "0"
