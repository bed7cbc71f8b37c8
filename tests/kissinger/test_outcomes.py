import numpy as np
import xarray as xr

from sdkit.kissinger.outcomes import classify_outcome


def test_outcomes_of_three_trajectories():
    time = np.arange(5.0)
    restraint = xr.DataArray(
        [[0.9, 0.8, 0.7, 0.8, 0.9], [0.9, 0.3, 0.1, 0.6, 0.9], [0.9, 0.4, 0.2, 0.1, 0.1]],
        dims=("sample", "time"),
        coords={"time": time},
    )
    outcome = classify_outcome(restraint)
    assert outcome.dims == ("sample",)
    assert outcome.values.tolist() == [0, 1, 2]
    assert outcome.attrs["flag_meanings"].split() == ["stable_order", "collapse_then_new_order", "lasting_disorder"]


def test_threshold_decides():
    restraint = xr.DataArray([[0.9, 0.45, 0.9]], dims=("sample", "time"))
    assert classify_outcome(restraint, threshold=0.5).item() == 1
    assert classify_outcome(restraint, threshold=0.4).item() == 0
