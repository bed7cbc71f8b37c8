"""sdkit.summarise: quantiles of an ensemble over its samples."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import sdkit
from sdkit.errors import ParameterError
from sdkit.summary import final_quantiles_table


def ensemble_like() -> xr.Dataset:
    values = np.arange(1.0, 101.0)[:, None] * np.array([[0.0, 1.0, 2.0]])  # sample x time
    values[0, :] = np.nan  # a run that blew up
    return xr.Dataset({"stock": (("sample", "time"), values, {"long_name": "Stock"})},
                      coords={"sample": np.arange(100), "time": [0.0, 1.0, 2.0]}, attrs={"model_sha256": "abc"})


def test_quantiles_over_samples_leave_out_blown_up_runs():
    summary = sdkit.summarise(ensemble_like(), quantiles=[0.0, 0.5, 1.0])
    np.testing.assert_allclose(summary["stock"].sel(time=2.0), [4.0, 102.0, 200.0])
    assert int(summary["runs_stock"].sel(time=2.0)) == 99
    assert summary.attrs["model_sha256"] == "abc"
    assert summary["stock"].attrs["long_name"] == "Stock"


def test_final_table_names_the_quantiles():
    text = final_quantiles_table(ensemble_like(), quantiles=[0.5])
    assert text.splitlines()[0].split() == ["variable", "q0.5", "runs"]
    assert text.splitlines()[2].split() == ["Stock", "102", "99"]


@pytest.mark.parametrize(("kwargs", "message"), [({"quantiles": [1.5]}, "in \\[0, 1\\]"), ({"dim": "scenario"}, "no 'scenario' dimension")])
def test_bad_requests(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        sdkit.summarise(ensemble_like(), **kwargs)


def test_exported():
    assert {"ensemble", "summarise"} <= set(sdkit.__all__)


def test_a_model_prints_in_one_line_and_as_html():
    from pathlib import Path

    model = sdkit.load_model(Path(__file__).parent / "data" / "decay.mdl")
    text = repr(model)
    assert text.startswith("<Model decay: 1 stocks, 2 constants, 1 auxiliaries; 3 scenarios (slow, fast, fast_long)")
    assert len(text) < 200
    html = model._repr_html_()
    assert "<table>" in html
    assert html.count("<tr>") == 1 + len(model.scenarios)


def test_ensemble_summary_prints_quantiles_of_final_values(tmp_path, capsys):
    from pathlib import Path

    from sdkit.cli import main

    samples = tmp_path / "s.csv"
    samples.write_text("decay time,initial stock\n1,10\n2,20\n3,30\n")
    model = Path(__file__).parent / "data" / "decay.mdl"
    assert main(["ensemble", str(model), "--samples", str(samples), "--out", str(tmp_path / "e.nc"), "--summary"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("variable")))
    assert lines[header].split() == ["variable", "q0.05", "q0.25", "q0.5", "q0.75", "q0.95", "runs"]
    median = float(lines[header + 2].split()[3])
    final = 20 * (1 - 0.125 / 2) ** 160  # the middle run: initial 20, decay time 2, 160 Euler steps of 0.125
    assert median == pytest.approx(final, rel=1e-3)
