"""One run from the shell imports only what it needs, and writes the same bytes as before.

``sdkit run`` on a warm cache imports none of PySD's package, pint, dask, dask.array (with
scipy) and dask.distributed; the shortcuts that avoid them (sdkit/dask_probe.py,
sdkit/parsed.py's ``pysd_module``, sdkit/io.py's netCDF writer, the coordinates of
sdkit/simulate.py) must give the files and values the plain xarray and PySD calls give.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sdkit
from sdkit.io import write_netcdf
from sdkit.parsed import pysd_module
from sdkit.report import last_value
from sdkit.simulate import indexed_coordinates

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"

#: what a warm one-run process of a model without subscript ranges must not import
HEAVY = ("pysd", "pint", "dask", "dask.array", "distributed", "scipy", "numba")


def _python(code: str, cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SDKIT_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_a_warm_run_from_the_shell_imports_none_of_the_heavy_packages(tmp_path):
    code = (
        "import runpy, sys\n"
        "sys.argv = ['sdkit', 'run', sys.argv[1], '--out', sys.argv[2], '--force']\n"
        "try:\n    runpy.run_module('sdkit', run_name='__main__')\n"
        "except SystemExit as end:\n    assert not end.code, end.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = tmp_path / "decay.nc"
    _python(code, tmp_path / "cache", str(DATA / "decay.mdl"), str(out))  # fills the cache
    warm = _python(code, tmp_path / "cache", str(DATA / "decay.mdl"), str(out))
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.strip().splitlines()[-1] == "[]"
    in_process = sdkit.run(sdkit.load_model(DATA / "decay.mdl"))
    assert (xr.open_dataset(out)["stock"].values == in_process["stock"].values).all()


def test_the_netcdf_file_has_the_bytes_xarray_to_netcdf_writes(tmp_path, regions_path):
    for dataset in (sdkit.run(sdkit.load_model(DATA / "decay.mdl")), sdkit.run(sdkit.load_model(regions_path))):
        dataset.attrs["command"] = "sdkit run"
        write_netcdf(dataset, tmp_path / "sdkit.nc")
        dataset.to_netcdf(tmp_path / "xarray.nc", engine="netcdf4")
        assert (tmp_path / "sdkit.nc").read_bytes() == (tmp_path / "xarray.nc").read_bytes()
        write_netcdf(dataset.chunk({"time": 7}), tmp_path / "chunked.nc")  # dask's arrays: to_netcdf itself
        assert xr.open_dataset(tmp_path / "chunked.nc").identical(xr.open_dataset(tmp_path / "xarray.nc"))


def test_indexed_coordinates_are_the_ones_xarray_makes():
    labels = {"scenario": ["default", "high"], "time": np.arange(0.0, 2.0, 0.5), "region": ["north", "south"]}
    values = np.arange(16.0).reshape(2, 4, 2)
    plain = xr.Dataset({"v": (("scenario", "time", "region"), values)}, coords=labels)
    made = xr.Dataset({"v": (("scenario", "time", "region"), values)}, coords=indexed_coordinates(labels))
    assert made.identical(plain)
    assert {k: (type(v), v.dtype) for k, v in made.variables.items()} == \
        {k: (type(v), v.dtype) for k, v in plain.variables.items()}
    assert {k: type(i) for k, i in made.xindexes.items()} == {k: type(i) for k, i in plain.xindexes.items()}


def test_xarray_sees_dask_arrays_once_dask_array_is_imported(tmp_path):
    code = (
        "import sys\nimport numpy as np, xarray as xr\n"
        "from sdkit.dask_probe import answer_lazily\n"
        "assert answer_lazily()\n"
        "xr.Dataset({'v': ('x', np.ones(3))}, coords={'x': [1, 2, 3]})\n"
        "print('dask.array' in sys.modules)\n"
        "import dask, dask.array as da\n"
        "from packaging.version import Version\n"
        "from xarray.namedarray.pycompat import array_type, mod_version\n"
        "print(array_type('dask') == (da.Array,), mod_version('dask') == Version(dask.__version__))\n"
        "print(xr.Dataset({'v': ('x', da.ones(3, chunks=1))})['v'].chunks)\n"
    )
    done = _python(code, tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True", "((1,", "1,", "1),)"]


def test_pysd_imported_after_a_warm_load_shares_the_abstract_model_classes(tmp_path):
    code = (
        "import sys, sdkit\n"
        "sdkit.load_model(sys.argv[1])\n"
        "model = sdkit.load_model(sys.argv[1])\n"
        "print('pysd' in sys.modules)\n"
        "from pysd.translators.structures import abstract_model\n"
        "print(type(model.abstract_model) is abstract_model.AbstractModel)\n"
        "by_pysd, by_engine = sdkit.run(model, engine='pysd'), sdkit.run(model, engine='engine')\n"
        "print(bool((by_pysd['stock'] == by_engine['stock']).all()))\n"
    )
    _python(code, tmp_path / "cache", str(DATA / "decay.mdl"))  # fills the cache
    done = _python(code, tmp_path / "cache", str(DATA / "decay.mdl"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True"]


def test_only_pysd_modules_that_stand_alone_are_loaded_alone():
    with pytest.raises(ValueError, match="stand alone"):
        pysd_module("pysd.py_backend.external")


def test_the_final_value_is_the_last_one_that_is_not_nan():
    assert last_value(np.array([1.0, np.inf, 2.0, np.nan])) == 2.0
    assert np.isnan(last_value(np.array([np.nan, np.nan])))


def test_a_model_loaded_with_numba_runs_compiled_from_its_first_run(decay_path):
    plain = sdkit.load_model(decay_path, numba=False)
    assert "numba" not in plain.kernel._fns
    compiled = sdkit.load_model(decay_path, numba=True)
    assert "numba" in compiled.kernel._fns
    assert sdkit.run(compiled).identical(sdkit.run(plain))


def test_a_plain_load_loads_the_numba_kernel_only_when_the_cache_holds_it(decay_path, tmp_path):
    sdkit.load_model(decay_path, numba=True)  # numba's cache holds the decay model's kernel from now on
    cached = sdkit.load_model(decay_path)
    assert cached.numba_cached()
    assert cached.kernel.numba_kind == "one"
    assert sdkit.run(cached).identical(sdkit.run(sdkit.load_model(decay_path, numba=False)))
    plain = sdkit.load_model(_own_structure(decay_path, tmp_path, "MAX(Stock, 0) / decay time"))
    assert not plain.numba_cached()
    assert plain.kernel.numba_kind is None
    assert "numba" not in plain.kernel._fns


def test_a_plain_load_compiles_an_uncached_kernel_in_the_background_and_runs_switch_to_it(decay_path, tmp_path,
                                                                                          monkeypatch):
    monkeypatch.setenv("SDKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SDKIT_NUMBA_PREWARM", "1")  # the default, which tests/conftest.py turns off
    path = _own_structure(decay_path, tmp_path, "MIN(Stock, 1000) / decay time")
    model = sdkit.load_model(path)
    assert not model.numba_cached()
    assert model.kernel.background is not None
    on_numpy = sdkit.run(model)
    assert model.kernel.background.wait(300)  # a bound on the wait, not a speed test
    assert model.kernel.numba_kind == "one"
    assert sdkit.load_model(path, numba=False).numba_cached()  # the next process's load finds it
    assert sdkit.run(model).identical(on_numpy)


def _own_structure(decay_path: Path, tmp_path: Path, outflow: str) -> Path:
    """The decay model with another outflow formula: a structure no other test compiles."""
    path = tmp_path / "own_structure.mdl"
    path.write_text(decay_path.read_text().replace("outflow = Stock / decay time", f"outflow = {outflow}"))
    return path
