"""Crafted model files must never run code: each would create a marker file if it did."""

from pathlib import Path

import pytest

import sdkit
from sdkit.errors import ModelFileError

DECAY = Path(__file__).parent / "data" / "decay.mdl"


def payload(marker: Path) -> str:
    return f"__import__('os').system('touch {marker}')"


def crafted(tmp_path: Path, old: str, new: str) -> Path:
    text = DECAY.read_text()
    assert old in text
    path = tmp_path / "crafted.mdl"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # lookup range evaluated by PySD's translator while parsing
        ("decay time = 10", "decay time = WITH LOOKUP(Time, ([{p} or (0,0)-(1,1)],(0,0),(1,1)))"),
        ("decay time = 10", "decay time = WITH LOOKUP(Time, (\\ \\[{p} or (0,0)-(1,1)],(0,0),(1,1)))"),
        ("decay time = 10", "decay time = tbl(Time)\n\t~ Year\n\t~ t\n\t|\n\ntbl([{p} or (0,0)-(1,1)],(0,0),(1,1))"),
        # comment that closes PySD's generated docstring
        ("~\tAverage residence time of a widget.", '~\t""" + {p} + """'),
        ("~\tAverage residence time of a widget.", '~\t\\""" + str({p}) + """'),
        ("~\tAverage residence time of a widget.", "~\t''' + str({p}) + '''"),
    ],
)
def test_injection_is_refused_and_never_runs(tmp_path, old, new):
    marker = tmp_path / "MARKER"
    path = crafted(tmp_path, old, new.format(p=payload(marker)))
    with pytest.raises(ModelFileError, match="crafted.mdl line"):
        sdkit.load_model(path)
    assert not marker.exists()


def test_units_and_names_with_quotes_do_not_run(tmp_path):
    marker = tmp_path / "MARKER"
    path = crafted(tmp_path, "~\tYear [1,50]", f"~\tYear\" + str({payload(marker)}) + \" [1,50]")
    model = sdkit.load_model(path)
    sdkit.run(model, engine="pysd")
    assert not marker.exists()


def test_plain_lookup_range_is_accepted(tmp_path):
    path = crafted(tmp_path, "decay time = 10", "decay time = WITH LOOKUP(Time, ([(0,0)-(30,20)],(0,10),(30,12)))")
    model = sdkit.load_model(path)
    assert model.variables["decay_time"].kind == "auxiliary"
