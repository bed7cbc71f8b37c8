"""The cached parse (sdkit/parsed.py): used when it matches, never trusted beyond PySD's tree."""

import pickle
from pathlib import Path

import pytest

import sdkit
import sdkit.model_file
from sdkit.errors import ModelFileError
from sdkit.parsed import parse_key, remove_stale_parses

DATA = Path(__file__).parent / "data"
DECAY = (DATA / "decay.mdl").read_text()


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SDKIT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "model" / "decay.mdl"
    path.parent.mkdir()
    path.write_text(DECAY)
    return path


def _no_parser(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("PySD's parser was called although the parse was cached")

    monkeypatch.setattr(sdkit.model_file, "vensim_file", refuse)


def test_the_second_load_reads_the_cached_parse(private_cache, model_path, monkeypatch):
    first = sdkit.load_model(model_path)
    [cached] = private_cache.glob("parsed/*.pickle")
    _no_parser(monkeypatch)
    second = sdkit.load_model(model_path)
    assert pickle.dumps(second.abstract_model) == pickle.dumps(first.abstract_model)
    assert (sdkit.run(second)["stock"].values == sdkit.run(first)["stock"].values).all()
    assert cached.name == f"{parse_key(model_path, model_path.read_text(), True)}.pickle"


def test_an_edited_model_is_parsed_again(private_cache, model_path, monkeypatch):
    sdkit.load_model(model_path)
    model_path.write_text(DECAY.replace("initial stock = 100", "initial stock = 50"))
    assert "initial stock = 50" in model_path.read_text(), "the edit must change the model text"
    assert float(sdkit.run(sdkit.load_model(model_path))["stock"].values[0, 0]) == 50.0
    assert len(list(private_cache.glob("parsed/*.pickle"))) == 2


def test_a_copy_elsewhere_is_parsed_for_its_own_folder(private_cache, model_path, tmp_path):
    sdkit.load_model(model_path)
    copy = tmp_path / "elsewhere" / "decay.mdl"
    copy.parent.mkdir()
    copy.write_text(DECAY)
    assert sdkit.load_model(copy).abstract_model.original_path.parent == copy.parent


class Planted:
    """Unpickling this object runs code: what a planted cache file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_planted_pickle_runs_nothing_and_is_replaced(private_cache, model_path, tmp_path, capsys):
    sdkit.load_model(model_path)
    [cached] = private_cache.glob("parsed/*.pickle")
    marker = tmp_path / "MARKER"
    cached.write_bytes(pickle.dumps(Planted(marker)))
    model = sdkit.load_model(model_path)
    assert not marker.exists()
    assert model.abstract_model.original_path == model_path
    assert b"touch" not in cached.read_bytes()  # replaced by a fresh parse
    assert b"abstract_model" in cached.read_bytes()
    assert capsys.readouterr().err == ""


def test_a_damaged_pickle_is_parsed_again(private_cache, model_path):
    sdkit.load_model(model_path)
    [cached] = private_cache.glob("parsed/*.pickle")
    cached.write_bytes(cached.read_bytes()[:100])
    assert sdkit.load_model(model_path).abstract_model.original_path == model_path


def test_a_cached_parse_still_passes_the_guard(private_cache, model_path):
    """A text the guard refuses is refused even when a parse is cached under its name."""
    sdkit.load_model(model_path)
    [cached] = private_cache.glob("parsed/*.pickle")
    unsafe = model_path.read_text().replace("Stock at the initial time.", '""" + str(__import__("os").getpid()) + """')
    cached.rename(cached.parent / f"{parse_key(model_path, unsafe, True)}.pickle")
    with pytest.raises(ModelFileError):
        sdkit.model_file.parse_model_text(model_path, unsafe)


def test_the_unpickler_builds_nothing_but_the_tree():
    import io

    from sdkit.parsed import _TreeUnpickler

    for foreign in (pickle.dumps(print), pickle.dumps(Planted(Path("x"))), pickle.dumps(sdkit.run)):
        with pytest.raises(pickle.UnpicklingError, match="may not refer to"):
            _TreeUnpickler(io.BytesIO(foreign)).load()


def test_stale_parses_are_removed(private_cache, model_path):
    import os

    sdkit.load_model(model_path)
    [cached] = private_cache.glob("parsed/*.pickle")
    assert remove_stale_parses(cached.parent) == []
    os.utime(cached, (0, 0))
    assert remove_stale_parses(cached.parent) == [cached.name]
    assert not cached.exists()


def test_the_names_are_kept_beside_the_parse(private_cache, model_path, monkeypatch):
    """A warm load takes the variables' Python names from the cache, not from PySD's builder,
    and they are the builder's names."""
    from sdkit import names

    first = sdkit.load_model(model_path)
    [kept] = private_cache.glob("parsed/names/*.pickle")
    assert kept.name == f"{parse_key(model_path, model_path.read_text(), True)}.pickle"

    def refuse(abstract_model):
        raise AssertionError("PySD's builder named the variables although the names were cached")

    monkeypatch.setattr(names, "_builder_names", refuse)
    second = sdkit.load_model(model_path)
    assert second.variables == first.variables
    monkeypatch.undo()
    assert names.model_names(second.abstract_model, model_path, "another text") == names._builder_names(
        second.abstract_model)


def test_planted_names_run_nothing_and_are_named_again(private_cache, model_path, tmp_path):
    first = sdkit.load_model(model_path)
    [kept] = private_cache.glob("parsed/names/*.pickle")
    marker = tmp_path / "MARKER"
    for planted in (pickle.dumps(Planted(marker)), pickle.dumps(("not", "names")), b"damaged"):
        kept.write_bytes(planted)
        assert sdkit.load_model(model_path).variables == first.variables
        assert not marker.exists()


def test_a_warm_run_imports_neither_pysds_builder_nor_numba(private_cache, model_path):
    """`sdkit run` on a warm cache: the parse and the names come from the cache, the one run
    takes the numpy backend, whose maths need no numba for one sample."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    script = (
        "import sys\n"
        "from sdkit.cli import main\n"
        "code = main(['run', sys.argv[1], '--out', sys.argv[2], '--force'])\n"
        "print(code, sorted(m for m in ('numba', 'pysd.builders.python.python_model_builder', 'black')"
        " if m in sys.modules))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(root), SDKIT_CACHE_DIR=str(private_cache))
    model = root / "models" / "kissinger_core.mdl"
    outputs = []
    for out in ("cold.nc", "warm.nc"):
        done = subprocess.run([sys.executable, "-c", script, str(model), str(model_path.parent / out)],
                              capture_output=True, text=True, env=env, check=True)
        outputs.append(done.stdout.strip().splitlines()[-1])
    assert outputs[1] == "0 []", outputs
