"""Unit tests of the ensemble engine: known answers, chunk invariance, errors, pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdkit.engine import compile_model
from sdkit.errors import ModelFileError, NonFiniteError, ParameterError, UnsupportedFeature

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "tests" / "data" / "engine_features.mdl"

CONTROL = """
FINAL TIME = {final}
	~	Year
	~	|
INITIAL TIME = 0
	~	Year
	~	|
SAVEPER = {saveper}
	~	Year
	~	|
TIME STEP = {dt}
	~	Year
	~	|
"""


def write_model(tmp_path: Path, body: str, final=10, dt=0.25, saveper=1, name="m.mdl") -> Path:
    """Write a small Vensim model made of ``body`` plus control variables."""
    path = tmp_path / name
    text = "{UTF-8}\n" + body + CONTROL.format(final=final, dt=dt, saveper=saveper)
    path.write_text(text, encoding="utf-8")
    return path


DECAY = """
stock = INTEG(-outflow, initial stock)
	~	Widget
	~	The decaying stock.
	|
outflow = stock / tau
	~	Widget/Year
	~	|
tau = 5
	~	Year [2,8]
	~	Time constant.
	|
initial stock = 100
	~	Widget
	~	|
"""


@pytest.fixture(scope="module")
def decay_kernel(tmp_path_factory):
    return compile_model(write_model(tmp_path_factory.mktemp("decay"), DECAY))


@pytest.fixture(scope="module")
def features_kernel():
    return compile_model(FEATURES)


def test_decay_matches_euler_closed_form(decay_kernel):
    """Euler on dx/dt = -x/tau gives x_k = x0 (1 - dt/tau)^k exactly (up to rounding)."""
    tau = np.array([2.0, 5.0, 8.0])
    res = decay_kernel.simulate({"tau": tau}, 3, variables=["stock", "outflow"])
    steps = np.round(res.times / 0.25)
    expected = 100.0 * (1 - 0.25 / tau[:, None]) ** steps[None, :]
    np.testing.assert_allclose(res.data["stock"], expected, rtol=1e-12)
    np.testing.assert_allclose(res.data["outflow"], expected / tau[:, None], rtol=1e-12)
    np.testing.assert_array_equal(res.times, np.arange(0.0, 10.5, 1.0))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_model_with_nothing_recomputed_per_step(backend):
    """Constant inflows only (no auxiliary changes over time): the stock grows linearly."""
    k = compile_model(Path(__file__).parents[1] / "data" / "sens_linear.mdl")
    weights = np.linspace(0.5, 2.0, 70)
    res = k.simulate({"weight_a": weights}, 70, ["stock"], backend=backend)
    inflow = weights * k.constants["rate_a"] + k.constants["weight_b"] * k.constants["rate_b"]
    inflow = inflow + k.constants["weight_c"] * k.constants["rate_c"]
    expected = inflow[:, None] * (res.times - res.times[0])[None, :]
    np.testing.assert_allclose(res.data["stock"], expected, rtol=1e-12, atol=1e-12)


def test_kernel_metadata(decay_kernel, features_kernel):
    k = decay_kernel
    assert k.names["stock"] == "stock"
    assert k.units["outflow"] == "Widget/Year"
    assert k.comments["stock"] == "The decaying stock."
    assert k.stocks == ["stock"]
    assert k.constants == {"tau": 5.0, "initial_stock": 100.0}
    assert k.limits["tau"] == (2.0, 8.0)
    assert (k.initial_time, k.final_time, k.time_step, k.saveper) == (0.0, 10.0, 0.25, 1.0)
    assert set(k.variables) == {"stock", "outflow", "tau", "initial_stock"}
    f = features_kernel
    assert f.dims["Region"] == ["north", "south", "east"]
    assert f.var_dims["capacity"] == ("Region", "Sector")
    np.testing.assert_array_equal(f.constants["capacity"], [[100, 80], [120, 60], [90, 110]])
    np.testing.assert_array_equal(f.constants["growth_rate"], [0.03, 0.02, 0.025])
    assert f.var_dims["grand_total"] == ()


def test_save_modes_agree(features_kernel):
    k = features_kernel
    full = k.simulate({}, 2, variables=["output", "grand_total"])
    final = k.simulate({}, 2, variables=["output", "grand_total"], save="final")
    some = k.simulate({}, 2, variables=["output"], save=[5.0, 20.0, 50.0])
    assert full.data["output"].shape == (2, 51, 3, 2)
    assert final.data["output"].shape == (2, 3, 2)
    np.testing.assert_array_equal(final.data["output"], full.data["output"][:, -1])
    np.testing.assert_array_equal(final.data["grand_total"], full.data["grand_total"][:, -1])
    np.testing.assert_array_equal(some.times, [5.0, 20.0, 50.0])
    np.testing.assert_array_equal(some.data["output"], full.data["output"][:, [5, 20, 50]])


def test_time_override_gives_prefix(features_kernel):
    k = features_kernel
    full = k.simulate({}, 1, variables=["grand_total"])
    short = k.simulate({}, 1, variables=["grand_total"], time={"final_time": 20})
    np.testing.assert_array_equal(short.times, full.times[:21])
    np.testing.assert_array_equal(short.data["grand_total"], full.data["grand_total"][:, :21])


def _random_params(kernel, n, seed):
    rng = np.random.default_rng(seed)
    return {
        py: np.asarray(v) * rng.uniform(0.7, 1.3, size=(n, *np.shape(v)))
        for py, v in kernel.constants.items()
    }


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_chunk_invariance_bit_for_bit(features_kernel, backend):
    """simulate(n=10) equals simulate on samples 0-2 and 3-9 concatenated, bit for bit."""
    k = features_kernel
    params = _random_params(k, 10, 3)
    whole = k.simulate(params, 10, backend=backend)
    a = k.simulate({p: v[:3] for p, v in params.items()}, 3, backend=backend)
    b = k.simulate({p: v[3:] for p, v in params.items()}, 7, backend=backend)
    for name in k.variables:
        joined = np.concatenate([a.data[name], b.data[name]])
        assert np.array_equal(whole.data[name], joined), name


def test_numpy_and_numba_backends_agree_bit_for_bit(features_kernel):
    """Both backends call the same compiled maths (vmath), so auto may pick either per chunk."""
    k = features_kernel
    params = _random_params(k, 8, 4)
    a = k.simulate(params, 8, backend="numpy")
    b = k.simulate(params, 8, backend="numba")
    for name in k.variables:
        assert np.array_equal(a.data[name], b.data[name]), name


def test_lane_blocks_do_not_change_a_bit(features_kernel):
    """40 samples run in 16-lane blocks on two threads; cut as 7 + 33 the blocks hold other
    samples, and the numpy backend has no blocks: all three agree bit for bit."""
    k = features_kernel
    params = _random_params(k, 40, 7)
    whole = k.simulate(params, 40, backend="numba")
    a = k.simulate({p: v[:7] for p, v in params.items()}, 7, backend="numba")
    b = k.simulate({p: v[7:] for p, v in params.items()}, 33, backend="numba")
    reference = k.simulate(params, 40, backend="numpy")
    for name in k.variables:
        joined = np.concatenate([a.data[name], b.data[name]])
        assert np.array_equal(whole.data[name], joined, equal_nan=True), name
        assert np.array_equal(whole.data[name], reference.data[name], equal_nan=True), name


@pytest.mark.parametrize("lanes", ["32", "64", "128"])
def test_every_lane_count_gives_the_same_bits(monkeypatch, features_kernel, lanes):
    """The features model's kernel forced to 32, 64 and 128 lanes (its rule gives 16): 150 samples on two
    threads are full blocks and a part-filled one; cut as 7 + 143 the blocks hold other samples; both
    equal the 16-lane kernel and the numpy backend bit for bit."""
    monkeypatch.setenv("SDKIT_NUMBA_LANES", lanes)
    k = compile_model(FEATURES)
    assert f"for b in range(S0, S1, {lanes}):" in k.source("numba")
    params = _random_params(k, 150, 11)
    whole = k.simulate(params, 150, backend="numba")
    a = k.simulate({p: v[:7] for p, v in params.items()}, 7, backend="numba")
    b = k.simulate({p: v[7:] for p, v in params.items()}, 143, backend="numba")
    sixteen = features_kernel.simulate(params, 150, backend="numba")
    reference = k.simulate(params, 150, backend="numpy")
    for name in k.variables:
        joined = np.concatenate([a.data[name], b.data[name]])
        assert np.array_equal(whole.data[name], joined, equal_nan=True), name
        assert np.array_equal(whole.data[name], sixteen.data[name], equal_nan=True), name
        assert np.array_equal(whole.data[name], reference.data[name], equal_nan=True), name


def test_lane_count_rule_and_its_override(monkeypatch):
    """The most of 16/32/64/128 lanes whose block of values fits the budget; 32 for the looped kernel; the
    environment variable forces a count and refuses any other."""
    from sdkit.engine.nbmodule import LANE_BUDGET, lane_count

    assert lane_count(15) == 128
    assert lane_count(LANE_BUDGET // (128 * 8)) == 128
    assert lane_count(LANE_BUDGET // (128 * 8) + 1) == 64
    assert lane_count(LANE_BUDGET // (64 * 8)) == 64
    assert lane_count(LANE_BUDGET // (64 * 8) + 1) == 32
    assert lane_count(LANE_BUDGET // (16 * 8) + 1) == 16
    assert lane_count(14042, looped=True) == 32
    monkeypatch.setenv("SDKIT_NUMBA_LANES", "64")
    assert lane_count(403) == 64
    monkeypatch.setenv("SDKIT_NUMBA_LANES", "12")
    with pytest.raises(ParameterError, match="SDKIT_NUMBA_LANES=12 is not a lane count; use one of 16, 32, 64, 128"):
        lane_count(15)


def test_auto_backend_chunks_across_the_switch(features_kernel):
    """auto uses numpy for 3 samples and numba for 67; the union equals one run of 70."""
    k = features_kernel
    params = _random_params(k, 70, 5)
    whole = k.simulate(params, 70, variables=["output", "smoothed3_total"], save="final")
    a = k.simulate({p: v[:3] for p, v in params.items()}, 3, ["output", "smoothed3_total"], "final")
    b = k.simulate(
        {p: v[3:] for p, v in params.items()}, 67, ["output", "smoothed3_total"], "final"
    )
    for name in ("output", "smoothed3_total"):
        assert np.array_equal(whole.data[name], np.concatenate([a.data[name], b.data[name]]))


def test_scalar_and_vector_params_are_equivalent(decay_kernel):
    a = decay_kernel.simulate({"tau": 4.0}, 3, variables=["stock"])
    b = decay_kernel.simulate({"tau": np.full(3, 4.0)}, 3, variables=["stock"])
    assert np.array_equal(a.data["stock"], b.data["stock"])


def test_kernel_pickles(features_kernel):
    k2 = pickle.loads(pickle.dumps(features_kernel))
    a = features_kernel.simulate({}, 1, variables=["grand_total"], save="final")
    b = k2.simulate({}, 1, variables=["grand_total"], save="final")
    assert np.array_equal(a.data["grand_total"], b.data["grand_total"])


NAN_MODEL = """
rate = 1 / d
	~	1/Year
	~	|
d = 1
	~	Year
	~	|
spike = 1 / (Time - 2)
	~	Dmnl
	~	|
stock = INTEG(rate, 0)
	~	Widget
	~	|
"""


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_nonfinite_names_variable_sample_and_time(tmp_path, backend):
    k = compile_model(write_model(tmp_path, NAN_MODEL, final=5, dt=0.5))
    d = np.ones(6)
    d[4] = 0.0
    with pytest.raises(NonFiniteError, match=r"'rate'.* time 0\.0 in sample 4") as info:
        k.simulate({"d": d}, 6, backend=backend)
    assert (info.value.variable, info.value.sample, info.value.time) == ("rate", 4, 0.0)
    with pytest.raises(NonFiniteError, match=r"'spike'.* time 2\.0 in sample 0"):
        k.simulate({}, 2, backend=backend)


def test_nonfinite_in_a_later_lane_block_is_found(tmp_path):
    """40 samples on the numba backend: 16-lane blocks on two threads; the failing sample is
    named whichever block and thread ran it, for a constant and for a dynamic variable."""
    model = NAN_MODEL.replace("spike = 1 / (Time - 2)", "spike = 1 / (Time - d)")
    k = compile_model(write_model(tmp_path, model, final=5, dt=0.5))
    d = np.full(40, 100.0)
    d[37] = 0.0
    with pytest.raises(NonFiniteError, match=r"'rate'.* time 0\.0 in sample 37"):
        k.simulate({"d": d}, 40, backend="numba")
    d[37] = 100.0
    d[23] = 3.0
    with pytest.raises(NonFiniteError, match=r"'spike'.* time 3\.0 in sample 23"):
        k.simulate({"d": d}, 40, backend="numba")


def test_unknown_names_and_bad_shapes_raise(decay_kernel):
    k = decay_kernel
    with pytest.raises(ParameterError, match="'speed'"):
        k.simulate({"speed": 1.0}, 2)
    with pytest.raises(ParameterError, match="'outflow' is not an overridable constant"):
        k.simulate({"outflow": 1.0}, 2)
    with pytest.raises(ParameterError, match="'nothing'"):
        k.simulate({}, 2, variables=["nothing"])
    with pytest.raises(ParameterError, match="shape"):
        k.simulate({"tau": np.ones(3)}, 2)
    with pytest.raises(ParameterError, match="not on the time-step grid"):
        k.simulate({}, 1, save=[0.1])
    with pytest.raises(ParameterError, match="time key 'end'"):
        k.simulate({}, 1, time={"end": 3})


def test_results_larger_than_the_memory_are_refused_before_the_run(decay_kernel):
    import psutil

    n = int(psutil.virtual_memory().total // 8) + 1  # one value per sample is more than the whole memory
    with pytest.raises(ParameterError, match=r"results would take .* GB .*save='final'"):
        decay_kernel.simulate({}, n, variables=["stock"], save=[0.0])


@pytest.mark.parametrize(
    ("equation", "function"),
    [
        ("RANDOM WEIBULL(0, 10, 3, 0, 1, 0)", "RANDOM WEIBULL"),
        ("RANDOM BETA(0, 1, 2, 3, 0, 1, 0)", "RANDOM BETA"),
        ("ALLOCATE AVAILABLE(stock, stock, stock)", "ALLOCATE AVAILABLE outside a subscripted equation"),
    ],
)
def test_unsupported_function_names_function_and_variable(tmp_path, equation, function):
    body = DECAY + f"\nodd variable = {equation}\n\t~\tWidget\n\t~\t|\n"
    with pytest.raises(UnsupportedFeature, match=rf"'{function}' in variable 'odd variable'"):
        compile_model(write_model(tmp_path, body))


def test_data_equation_is_unsupported(tmp_path):
    body = DECAY + "\nodd variable := decay time * 2\n\t~\t\n\t~\t|\n"
    with pytest.raises(UnsupportedFeature, match=r"'data equation \(:=\)' in variable 'odd variable'"):
        compile_model(write_model(tmp_path, body))


def test_a_data_file_that_is_not_there_is_named(tmp_path):
    body = DECAY + "\nodd variable := GET XLS DATA('inputs.xlsx', 'Sheet1', 'A', 'B2')\n\t~\t\n\t~\t|\n"
    with pytest.raises(ModelFileError, match=r"'odd variable' \(line \d+\) cannot read 'inputs.xlsx'"):
        compile_model(write_model(tmp_path, body))


def test_bad_model_files_raise_model_file_error(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        compile_model(tmp_path / "missing.mdl")
    bad = write_model(tmp_path, "x = (1 +\n\t~\t\n\t~\t|\n", name="bad.mdl")
    with pytest.raises(ModelFileError, match="cannot parse"):
        compile_model(bad)
    loop = write_model(
        tmp_path, "a = b\n\t~\t\n\t~\t|\nb = a + 1\n\t~\t\n\t~\t|\n", name="loop.mdl"
    )
    with pytest.raises(ModelFileError, match="algebraic loop"):
        compile_model(loop)


def test_generated_source_contains_no_model_text(features_kernel):
    """Names, units and comments from the model never reach the generated code."""
    for flavor in ("numpy", "numba"):
        src = features_kernel.source(flavor)
        for word in ("north", "capacity", "Widget", "regional", "growth"):
            assert word not in src


def test_compile_refuses_code_in_lookup_range(tmp_path, monkeypatch):
    """PySD's parser evaluates lookup-range text; the engine checks the file before parsing."""
    monkeypatch.chdir(tmp_path)
    payload = "__import__('pathlib').Path('MARKER').touch() or (0,0)-(1,1)"
    body = DECAY + f"\nbad = WITH LOOKUP(Time, ([{payload}],(0,0),(1,1)))\n\t~\t\n\t~\t|\n"
    with pytest.raises(ModelFileError, match="lookup range"):
        compile_model(write_model(tmp_path, body))
    assert not (tmp_path / "MARKER").exists()


def test_subscripted_parameter_forms(features_kernel):
    """(n, *dims) gives each sample its own array; (*dims) is shared by all samples."""
    k = features_kernel
    cap = np.asarray(k.constants["capacity"])
    per_sample = np.stack([cap * 0.8, cap * 1.2])
    both = k.simulate({"capacity": per_sample}, 2, ["output"], "final")
    for i in range(2):
        one = k.simulate({"capacity": per_sample[i]}, 1, ["output"], "final")
        assert np.array_equal(one.data["output"][0], both.data["output"][i])
    with pytest.raises(ParameterError, match="shape"):
        k.simulate({"capacity": np.ones((2, 2, 3))}, 2)


LOOKUPS_OF_HELD_VALUES = """
factor = 2
	~	Dmnl
	~	|
table(
	[(0,0)-(10,10)],(0,1),(1,3),(2,2),(3.5,5),(5,4),(8,9))
	~	Dmnl
	~	|
pattern = table(Time / factor)
	~	Dmnl
	~	|
of stock = 2 * table(stock) + pattern
	~	Dmnl
	~	|
of step value = table(of stock / 4)
	~	Dmnl
	~	|
pulses = PULSE TRAIN(1, 0.5, 2, 8) + STEP(3, 4) + PULSE(2, 1)
	~	Dmnl
	~	|
stock = INTEG(pattern + of step value + pulses - stock / factor, 1)
	~	Dmnl
	~	|
"""


def test_lookups_leave_the_lane_loop_with_the_same_bits(tmp_path):
    """Lookups of a parameter, of a stock and of a value of the step, and the values of the step their
    arguments read, are computed before the lane loop; functions of numbers and Time once per step;
    numba and numpy agree bit for bit."""
    k = compile_model(write_model(tmp_path, LOOKUPS_OF_HELD_VALUES, final=12, dt=0.125))
    source = k.source("numba")
    step = source[source.index("def lanes("):source.index("def lanes_full(")]
    lane_loop = step.index("):\n        v")  # the lane loop starts with a value
    searches = step[:lane_loop].count("_F.lookup(") + step[:lane_loop].count("_F.interval(")
    assert searches == 3  # the lane loop only interpolates (_F.interpolated) from the intervals found before it
    assert "_F.lookup(" not in step[lane_loop:]
    assert "_F.interval(" not in step[lane_loop:]
    assert step[:lane_loop].count("_F.pulse_train(") == 1
    params = _random_params(k, 90, 3)
    a = k.simulate(params, 90, backend="numba")
    b = k.simulate(params, 90, backend="numpy")
    for name in k.variables:
        assert np.array_equal(a.data[name], b.data[name], equal_nan=True), name


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_lookup_backends_agree(mode):
    """numpy and numba lookups agree bit for bit inside, on and outside the table."""
    from sdkit.engine import functions, nbfunctions

    xs = np.array([0.0, 1.0, 1.0, 2.5, 4.0])
    ys = np.array([1.0, 3.0, 2.0, -1.0, 0.5])
    x = np.concatenate([np.linspace(-2, 6, 97), xs])
    vec = functions.lookup(x, xs, ys, mode)
    scalar = np.array([nbfunctions.lookup(v, xs, ys, mode) for v in x])
    assert np.array_equal(vec, scalar)
    inside = (x >= 0) & (x <= 4)
    if mode == 0:
        np.testing.assert_array_equal(vec, np.interp(x, xs, ys))
    if mode == 1:
        assert vec[np.flatnonzero(x == 2.0)[0]] == 2.0  # held from x = 1 (last of the ties)
    if mode == 2:
        assert vec[0] == 1.0 + 2.0 * (-2.0)  # extrapolated with the first segment's slope
    assert np.all(np.isfinite(vec[inside]))


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
@pytest.mark.parametrize("n", [1, 2, 3, 64, 1000])
def test_lookup_backends_agree_on_any_table(mode, n):
    """numba's branch-free table search agrees with numpy's on one point, ties, long tables and the edges."""
    from sdkit.engine import functions, nbfunctions

    rng = np.random.default_rng(n)
    xs = np.sort(rng.choice(np.arange(-5.0, 5.0, 0.5), n))  # ties when n is large
    ys = rng.normal(size=n)
    inside = rng.uniform(xs[0] - 1, xs[-1] + 1, 200)
    x = np.concatenate([inside, xs, np.nextafter(xs, np.inf), np.nextafter(xs, -np.inf), [np.inf, -np.inf]])
    if mode != 1 and n > 1:  # at NaN numpy holds the last value backward, and a one-point interp its value
        x = np.append(x, np.nan)
    vec = functions.lookup(x, xs, ys, mode)
    scalar = np.array([nbfunctions.lookup(v, xs, ys, mode) for v in x])
    np.testing.assert_array_equal(vec, scalar)


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 2, 3, 64, 1000])
def test_a_lookup_from_its_interval_is_the_lookup(mode, n):
    """The one-function kernel's lookups before its lane loop: ``interval`` finds the interval ``lookup`` reads,
    and ``interpolated`` from that interval's points and the table's edges (or its y in mode 1) gives
    ``lookup``'s bits: inside, at ties, outside the table, at infinities and NaN."""
    from sdkit.engine import nbfunctions as F

    rng = np.random.default_rng(n)
    xs = np.sort(rng.choice(np.arange(-5.0, 5.0, 0.5), n))  # ties when n is large
    ys = rng.normal(size=n)
    x = np.concatenate([np.linspace(xs[0] - 1, xs[-1] + 1, 500), rng.uniform(-7, 7, 200), xs,
                        np.nextafter(xs, np.inf), np.nextafter(xs, -np.inf), [np.inf, -np.inf, np.nan, 0.25]])
    edges = F.table_edges(xs, ys, mode)
    for v in x:
        j = F.interval(v, xs)
        assert j == (np.flatnonzero(xs <= v)[-1] if (xs <= v).any() else 0), v
        k = min(j + 1, n - 1)
        got = ys[j] if mode == 1 else F.interpolated(v, xs[j], ys[j], xs[k], ys[k], edges)
        want = F.lookup(v, xs, ys, mode)
        assert np.array_equal(got, want, equal_nan=True), (v, got, want)


LOOKUPS_JUMPING = """
table(
	[(0,0)-(10,10)],(0,1),(1,3),(1,2),(2.5,-1),(4,0.5),(4,0.5),(8,9))
	~	Dmnl
	~	|
tie(
	[(0,0)-(10,10)],(2,5),(2,7))
	~	Dmnl
	~	|
wobble = 3 ~~|
x = Time + wobble * SIN(3 * Time) ~~|
jump = table(x) + table(-x) + table(x * x) + tie(x) ~~|
held = table(stock) ~~|
"""


def test_lookups_that_move_between_intervals_keep_their_bits(tmp_path):
    """Lookups before the lane loop keep each lane's interval from the step before and search only where the
    argument left it: arguments that move forward, back and jump across the table, beyond both ends, at ties
    and on a table of one tie give numpy's bits in every lane."""
    body = DECAY + LOOKUPS_JUMPING
    k = compile_model(write_model(tmp_path, body, final=12, dt=0.125))
    assert "_F.interpolated(" in k.source("numba")
    params = _random_params(k, 40, 5)
    a = k.simulate(params, 40, backend="numba")
    b = k.simulate(params, 40, backend="numpy")
    for name in k.variables:
        assert np.array_equal(a.data[name], b.data[name], equal_nan=True), name


def test_control_variables_from_constants(tmp_path):
    """SAVEPER = 2 * TIME STEP and FINAL TIME = horizon resolve at compile time."""
    body = DECAY + "\nhorizon = 6\n\t~\tYear\n\t~\t|\n"
    text = "{UTF-8}\n" + body + CONTROL.format(final="horizon", dt=0.25, saveper="2 * TIME STEP")
    path = tmp_path / "ctl.mdl"
    path.write_text(text, encoding="utf-8")
    k = compile_model(path)
    assert (k.final_time, k.saveper) == (6.0, 0.5)
    res = k.simulate({}, 1, variables=["stock"])
    np.testing.assert_array_equal(res.times, np.arange(0.0, 6.25, 0.5))
    with pytest.raises(ParameterError, match="'horizon' sets a control variable"):
        k.simulate({"horizon": 8.0}, 1)


def test_saveper_expression_follows_overridden_time_step(tmp_path):
    """As in PySD, SAVEPER = 2 * TIME STEP is re-evaluated when time_step is overridden."""
    k = compile_model(write_model(tmp_path, DECAY, final=4, dt=0.25, saveper="2 * TIME STEP"))
    res = k.simulate({}, 1, variables=["stock"], time={"time_step": 0.5})
    np.testing.assert_array_equal(res.times, [0.0, 1.0, 2.0, 3.0, 4.0])
    res = k.simulate({}, 1, variables=["stock"], time={"time_step": 0.5, "saveper": 2.0})
    np.testing.assert_array_equal(res.times, [0.0, 2.0, 4.0])


def test_long_ranges_and_long_expressions_compile(tmp_path):
    """A 250-element SUM and a 250-term sum stay within CPython's nesting limits."""
    elems = ", ".join(f"e{i}" for i in range(250))
    chain = " + ".join(["x"] * 250)
    body = (
        f"Big:\n\t{elems}\n\t~\t\n\t~\t|\n"
        "w[Big] = 0.5\n\t~\t\n\t~\t|\n"
        "x = 0.25\n\t~\t\n\t~\t|\n"
        "total = SUM(w[Big!]) * MIN(1, VMAX(w[Big!]))\n\t~\t\n\t~\t|\n"
        f"chain = ({chain}) * Time\n\t~\t\n\t~\t|\n"
    )
    k = compile_model(write_model(tmp_path, body, final=2, dt=1))
    res = k.simulate({}, 2, variables=["total", "chain"], save="final", backend="numpy")
    np.testing.assert_array_equal(res.data["total"], [62.5, 62.5])  # 250 * 0.5 * 0.5
    np.testing.assert_array_equal(res.data["chain"], [125.0, 125.0])  # 250 * 0.25 * 2
    assert "_t0 = " in k.source("numba")  # the chain was split into temporaries


@settings(max_examples=15, deadline=None)
@given(
    split=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=4),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_any_chunking_is_bit_identical(features_kernel, split, seed):
    """Cutting the samples into arbitrary chunks never changes a bit (auto backend)."""
    k = features_kernel
    n = sum(split)
    params = _random_params(k, n, seed)
    names = ["output", "total_trend", "delayedn_total"]
    whole = k.simulate(params, n, names, "final")
    start = 0
    for size in split:
        part = k.simulate(
            {p: v[start : start + size] for p, v in params.items()}, size, names, "final"
        )
        for name in names:
            assert np.array_equal(part.data[name], whole.data[name][start : start + size]), name
        start += size


def test_an_algebraic_loop_names_the_line_of_its_first_variable(tmp_path):
    body = DECAY + "\nfirst = second + 1\n\t~\t\n\t~\t|\nsecond = first * 2\n\t~\t\n\t~\t|\n"
    with pytest.raises(ModelFileError, match=r"algebraic loop .* \(it starts at '(first|second)' \(line \d+\)\)"):
        compile_model(write_model(tmp_path, body))
