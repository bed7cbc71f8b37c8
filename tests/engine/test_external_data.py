"""GET XLS/DIRECT DATA, LOOKUPS and CONSTANTS in the engine, against PySD and by hand."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from sdkit.engine import compile_model
from sdkit.engine.oracles import pysd_model
from sdkit.errors import ModelFileError

openpyxl = pytest.importorskip("openpyxl", reason="PySD's spreadsheet reader")

SERIES = "time,a,b,c\n0,1,10,100\n5,2,,200\n10,4,40,400\n"  # b has a hole at time 5

MODEL = """{UTF-8}
Col: c1, c2 ~~|
Row: r1, r2 ~~|
Letter: A, B ~~|
flow in := GET DIRECT DATA('series.csv', ',', 'A', 'B2') ~ widgets/Month ~ Interpolated. |
gap[Letter] := GET DIRECT DATA('series.csv', ',', 'A', 'C2') ~ widgets/Month ~ A hole. |
held:HOLD BACKWARD: := GET DIRECT DATA('series.csv', ',', 'A', 'D2') ~ widgets/Month ~ |
ahead:LOOK FORWARD: := GET DIRECT DATA('series.csv', ',', 'A', 'D2') ~ widgets/Month ~ |
level := GET DIRECT DATA('series.csv', ',', 'A', 'D2') ~ widgets/Month ~ |
table[r1, Col] := GET XLS DATA('inputs.xlsx', 'series', '1', 'B2') ~~|
table[r2, Col] := GET XLS DATA('inputs.xlsx', 'series', '1', 'B4') ~ widgets ~ |
curve[Letter]( GET XLS LOOKUPS('inputs.xlsx', 'tables', '1', 'B2')) ~ widgets ~ |
weight[Row, Col] = GET XLS CONSTANTS('inputs.xlsx', 'consts', 'B2') ~ Dmnl ~ |
flipped[Col, Row] = GET XLS CONSTANTS('inputs.xlsx', 'consts', 'B2*') ~ Dmnl ~ |
mixed[Row, Col] = weight[Row, Col] * table[Row, Col] + flipped[Col, Row] ~ widgets ~ |
bent[Letter] = curve[Letter](Time / 4) ~ widgets ~ |
total = flow in + SUM(gap[Letter!]) + held + ahead + SUM(mixed[Row!, Col!]) + SUM(bent[Letter!])
    ~ widgets/Month ~ |
stock = INTEG(total, 0) ~ widgets ~ |
INITIAL TIME = 0 ~ Month ~ |
FINAL TIME = 12 ~ Month ~ |
TIME STEP = 0.5 ~ Month ~ |
SAVEPER = TIME STEP ~ Month ~ |
"""


def _workbook(path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "series"
    for row in [["year", 0, 4, 8, 12], ["r1c1", 1, 2, 3, 4], ["r1c2", 5, 6, None, 8],
                ["r2c1", 9, 10, 11, 12], ["r2c2", 13, 14, 15, 16]]:
        sheet.append(row)
    for title, rows in {"tables": [["x", 0, 1, 2, 3], ["A", 0, 1, 4, 9], ["B", 1, 2, 3, 5]],
                        "consts": [["", "c1", "c2"], ["r1", 0.5, 1.5], ["r2", 2.5, 3.5]]}.items():
        extra = book.create_sheet(title)
        for row in rows:
            extra.append(row)
    book.save(path)


@pytest.fixture
def model_path(tmp_path):
    (tmp_path / "series.csv").write_text(SERIES, encoding="utf-8")
    _workbook(tmp_path / "inputs.xlsx")
    path = tmp_path / "external.mdl"
    path.write_text(MODEL, encoding="utf-8")
    return path


def _engine_series(kernel, result, py_name, elements=()):
    values = result.data[py_name][0]
    dims = kernel._ir.var_dims[py_name]
    index = tuple(kernel._ir.dims[d].index(e) for d, e in zip(dims, elements, strict=True))
    return values[(slice(None), *index)]


def _compare_with_pysd(path, kernel, result) -> tuple[int, int]:
    """Assert every column PySD's run of ``path`` shares with ``result`` equal to 1e-12 (NaN where
    PySD has NaN); (columns compared, columns of PySD's run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = pysd_model(path)
        expected = reference.run()
    compared = 0
    for column in expected.columns:
        name = column.split("[")[0]
        py_name = reference.namespace[name]
        if py_name not in result.data:
            continue  # the control variables
        elements = tuple(e.strip() for e in column[len(name) + 1:-1].split(",")) if "[" in column else ()
        np.testing.assert_allclose(_engine_series(kernel, result, py_name, elements), expected[column].values,
                                   rtol=0, atol=1e-12, err_msg=column)
        compared += 1
    return compared, len(expected.columns)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_every_variable_equals_pysd(model_path, backend):
    kernel = compile_model(model_path, backend=backend)
    compared, columns = _compare_with_pysd(model_path, kernel, kernel.simulate(None, 1))
    assert compared == columns - 4  # all but the four control variables


def test_data_keywords_interpolate_hold_and_look_forward(model_path):
    kernel = compile_model(model_path, backend="numpy")
    result = kernel.simulate(None, 1)
    at = {float(t): i for i, t in enumerate(result.times)}
    # the data: 100 at time 0, 200 at 5, 400 at 10, held beyond
    assert _engine_series(kernel, result, "level")[at[2.5]] == 150
    assert _engine_series(kernel, result, "held")[at[2.5]] == 100
    assert _engine_series(kernel, result, "ahead")[at[2.5]] == 200
    assert _engine_series(kernel, result, "ahead")[at[5.0]] == 200
    assert [_engine_series(kernel, result, name)[at[12.0]] for name in ("level", "held", "ahead")] == [400] * 3
    # the hole at time 5 is filled by interpolation between 10 and 40
    assert _engine_series(kernel, result, "gap", ("A",))[at[5.0]] == 25


def test_external_constants_are_constants_with_the_files_values(model_path):
    from sdkit.model import load_model

    model = load_model(model_path)
    assert model.variables["weight"].kind == "constant"
    assert model.variables["weight"].default == ((0.5, 1.5), (2.5, 3.5))
    assert model.variables["flipped"].default == ((0.5, 2.5), (1.5, 3.5))
    kernel = compile_model(model_path, backend="numpy")
    doubled = kernel.simulate({"weight": np.full((1, 2, 2), 2.0)}, 1)
    plain = kernel.simulate(None, 1)
    table = _engine_series(kernel, plain, "table", ("r2", "c1"))
    np.testing.assert_allclose(_engine_series(kernel, doubled, "mixed", ("r2", "c1")),
                               2.0 * table + 2.5, rtol=0, atol=1e-12)


def test_runs_record_the_data_files(model_path, tmp_path):
    import xarray as xr

    from sdkit.cli import main

    out = tmp_path / "run.nc"
    assert main(["run", str(model_path), "--out", str(out)]) == 0
    with xr.open_dataset(out) as ds:
        recorded = json.loads(ds.attrs["data_files_sha256"])
    assert sorted(recorded) == ["inputs.xlsx", "series.csv"]


def test_a_missing_data_file_is_one_line_naming_it(model_path):
    (model_path.parent / "series.csv").unlink()
    with pytest.raises(ModelFileError, match=r"'flow in'.*'series.csv'") as caught:
        compile_model(model_path, backend="numpy")
    assert "\n" not in str(caught.value)


RAW_MODEL = """{UTF-8}
Letter: A, B ~~|
raw :RAW: := GET DIRECT DATA('series.csv', ',', 'A', 'D2') ~ widgets/Month ~ Only at the data's times. |
raw gap[Letter] :RAW: := GET DIRECT DATA('series.csv', ',', 'A', 'B2') ~ widgets/Month ~ B's hole stays. |
known = IF THEN ELSE(raw = raw, raw, -1) ~ widgets/Month ~ The data where there is some. |
stock = INTEG(known, 0) ~ widgets ~ |
INITIAL TIME = 0 ~ Month ~ |
FINAL TIME = 12 ~ Month ~ |
TIME STEP = 0.5 ~ Month ~ |
SAVEPER = TIME STEP ~ Month ~ |
"""


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_raw_data_has_values_only_at_its_times_as_in_pysd(tmp_path, backend):
    (tmp_path / "series.csv").write_text(SERIES, encoding="utf-8")
    path = tmp_path / "raw.mdl"
    path.write_text(RAW_MODEL, encoding="utf-8")
    kernel = compile_model(path, backend=backend)
    result = kernel.simulate(None, 1)
    at = {float(t): i for i, t in enumerate(result.times)}
    raw = _engine_series(kernel, result, "raw")
    assert [raw[at[t]] for t in (0.0, 5.0, 10.0)] == [100, 200, 400]
    assert np.isnan(np.delete(raw, [at[0.0], at[5.0], at[10.0]])).all()  # beyond the data too
    assert np.isnan(_engine_series(kernel, result, "raw_gap", ("B",))[at[5.0]])  # missing: not filled
    compared, columns = _compare_with_pysd(path, kernel, result)
    assert compared == columns - 4  # all but the four control variables


def test_a_variable_computed_from_raw_data_between_its_times_is_a_non_finite_error(tmp_path):
    from sdkit.errors import NonFiniteError

    (tmp_path / "series.csv").write_text(SERIES, encoding="utf-8")
    path = tmp_path / "raw.mdl"
    path.write_text(RAW_MODEL.replace("IF THEN ELSE(raw = raw, raw, -1)", "raw * 2"), encoding="utf-8")
    with pytest.raises(NonFiniteError, match=r"'known'.*0\.5"):
        compile_model(path, backend="numpy").simulate(None, 1)


def test_sdkit_run_of_raw_data_is_the_same_with_either_engine(tmp_path):
    import xarray as xr

    from sdkit.cli import main

    (tmp_path / "series.csv").write_text(SERIES, encoding="utf-8")
    path = tmp_path / "raw.mdl"
    path.write_text(RAW_MODEL, encoding="utf-8")
    values = {}
    for engine in ("engine", "pysd"):
        out = tmp_path / f"{engine}.nc"
        assert main(["run", str(path), "--engine", engine, "--out", str(out)]) == 0
        with xr.open_dataset(out) as ds:
            values[engine] = {name: ds[name].values for name in ("raw", "known", "stock")}
    assert np.isnan(values["pysd"]["raw"]).any()
    for name, engine_values in values["engine"].items():
        np.testing.assert_array_equal(engine_values, values["pysd"][name], err_msg=name)  # NaN where NaN


def test_a_file_is_read_once_until_it_changes(model_path, monkeypatch):
    """The model reader and the engine read an unchanged file once; an edited file is read again."""
    from pysd.py_backend import external

    from sdkit.model import load_model

    reads = []
    original = external.ExtConstant.initialize
    monkeypatch.setattr(external.ExtConstant, "initialize", lambda self: reads.append(1) or original(self))
    model = load_model(model_path)
    compile_model(model)
    assert len(reads) == 2  # weight and flipped, each once for both readers
    workbook = model_path.with_name("inputs.xlsx")
    book = openpyxl.load_workbook(workbook)
    book["consts"]["B2"] = 7.0
    book.save(workbook)
    edited = load_model(model_path)
    assert len(reads) == 4
    assert edited.variables["weight"].default[0][0] == 7.0
