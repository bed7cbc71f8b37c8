"""Which loop dominates before an event, as a function of each sampled constant."""

import numpy as np
import pytest
import xarray as xr

from sdkit.errors import ParameterError
from sdkit.loops.windows import NEVER, parameter_table, window_by_parameter


def windows(leaders: list[str], event_times: list[float]) -> xr.Dataset:
    return xr.Dataset({"window_dominant_loop": ("sample", np.array(leaders, dtype=str)),
                       "event_time": ("sample", np.array(event_times, dtype=float))})


def test_share_per_quantile_bin_known_answer():
    # ten runs: x from 0.05 to 0.95; loop A leads below 0.5, B above, except the last run,
    # which never reaches the event; y takes two values, one per half of each of A's and B's runs
    x = np.arange(10) / 10 + 0.05
    y = np.array([1.0, 2.0] * 5)
    leaders = ["A"] * 5 + ["B"] * 4 + [""]
    window = windows(leaders, [5.0] * 9 + [np.nan])
    parameters = xr.Dataset({"x": ("sample", x), "y": ("sample", y)})
    by = window_by_parameter(window, parameters, bins=2)
    assert list(by["leader"].values) == ["A", "B", NEVER]
    np.testing.assert_allclose(by["window_share"].sel(parameter="x").values, [[1, 0, 0], [0, 0.8, 0.2]])
    np.testing.assert_allclose(by["bin_low"].sel(parameter="x").values, [0.05, 0.55])
    np.testing.assert_allclose(by["bin_high"].sel(parameter="x").values, [0.45, 0.95])
    np.testing.assert_allclose(by["bin_runs"].sel(parameter="x").values, [5, 5])
    # y has two values: one bin each; A leads runs 0, 2, 4 (y = 1, 2, 1), B runs 5-8 (y = 2, 1, 2, 1)
    np.testing.assert_allclose(by["window_share"].sel(parameter="y").values, [[0.6, 0.4, 0.0], [0.4, 0.4, 0.2]])


def test_bins_hold_equal_counts_and_every_run():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=1000)
    window = windows(["A"] * 1000, [1.0] * 1000)
    by = window_by_parameter(window, xr.Dataset({"x": ("sample", x)}), bins=4)
    np.testing.assert_array_equal(by["bin_runs"].values, [[250, 250, 250, 250]])
    assert (by["bin_high"].values[0, :-1] < by["bin_low"].values[0, 1:]).all()


def test_bins_must_be_positive():
    with pytest.raises(ParameterError, match="--bins must be at least 1"):
        window_by_parameter(windows(["A"], [1.0]), xr.Dataset({"x": ("sample", [1.0])}), bins=0)


def test_table_shows_each_bin():
    x = np.arange(10) / 10 + 0.05
    window = windows(["A"] * 5 + ["B"] * 4 + [""], [5.0] * 9 + [np.nan])
    parameters = xr.Dataset({"x": ("sample", x, {"long_name": "the x"})})
    text = parameter_table(window_by_parameter(window, parameters, bins=2), parameters)
    lines = text.splitlines()
    assert lines[0].split() == ["the", "x", "runs", "A", "B", NEVER]
    assert lines[2].split() == ["0.05", "to", "0.45", "5", "100%", "0%", "0%"]
    assert lines[3].split() == ["0.55", "to", "0.95", "5", "0%", "80%", "20%"]


def test_command_prints_and_stores_the_shares(capsys, tmp_path):
    from pathlib import Path

    from sdkit.cli import main

    source = (Path(__file__).parent / "test_dominance.py").read_text(encoding="utf-8")
    path = tmp_path / "population.mdl"
    path.write_text(source.split('POPULATION = """')[1].split('"""')[0], encoding="utf-8")
    samples = tmp_path / "samples.csv"
    samples.write_text("birth rate\n0.0\n0.01\n0.05\n0.1\n", encoding="utf-8")
    out = tmp_path / "scores.nc"
    code = main(["loops", str(path), "--dominance", "--samples", str(samples), "--before", "Population>103",
                 "--years", "1", "--bins", "2", "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "as a function of each sampled constant" in stdout
    with xr.open_dataset(out) as scores:
        # birth rates 0 and 0.01 never grow the population past 103 in 10 years (deaths at 1/40);
        # 0.05 and 0.1 do, the births loop leading the year before
        births = str(scores["loop"].values[list(scores["cycle"].values).index("births -> Population")])
        assert list(scores["leader"].values) == [births, NEVER]
        np.testing.assert_allclose(scores["window_share"].sel(parameter="birth_rate").values, [[0, 1], [1, 0]])
