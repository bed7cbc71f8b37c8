"""`sdkit explore`: the JSON API, through Starlette's test client, on both shipped models
and on test models without any configuration."""

import itertools
import re
import shlex
import threading
import tomllib

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from numpy.testing import assert_allclose

import sdkit
from sdkit.check_file import checks_path_for, read_check_file
from sdkit.check_runs import run_checks
from sdkit.cli import main
from sdkit.explore import Explorer, Point, create_app
from sdkit.explore.app import Latest, Status
from sdkit.explore.compute import FAN_QUANTILES, sample_quantiles
from tests.conftest import DATA, MODELS

starlette_testclient = pytest.importorskip("starlette.testclient")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CORE = MODELS / "kissinger_core.mdl"
FOUR = MODELS / "four_orders.mdl"


def _client(explorer):
    return starlette_testclient.TestClient(create_app(explorer, hosts={"testserver"}))


@pytest.fixture(scope="module")
def core():
    explorer = Explorer(sdkit.load_model(CORE), "liberal")
    return explorer, _client(explorer)


@pytest.fixture(scope="module")
def four():
    explorer = Explorer(sdkit.load_model(FOUR), "declining_leader")
    return explorer, _client(explorer)


@pytest.fixture(scope="module")
def regions():
    explorer = Explorer(sdkit.load_model(DATA / "regions.mdl"))
    return explorer, _client(explorer)


_SEQ = itertools.count(1)


def post(client, kind, point, seq=None, who="test", **extra):
    """POST a request; each gets a newer sequence number unless ``seq`` is given."""
    body = {"client": who, "seq": next(_SEQ) if seq is None else seq, "point": point, **extra}
    return client.post(f"/api/{kind}", json=body)


def _series(answer, name):
    return np.asarray(answer["series"][name], dtype=float)


def test_core_describes_grouped_sliders_and_the_six_variables(core):
    _, client = core
    model = client.get("/api/model").json()
    assert [v["name"] for v in model["variables"]] == [
        "Legitimacy", "Power", "Institutional Authority", "Civil Society Pressure", "Restraint", "Disorder"]
    groups = {s["key"]: s["group"] for s in model["sliders"]}
    assert groups["supremacy claim"] == "order parameters"
    assert groups["shock time"] == "scenario levers"
    assert groups["CES exponent"] == "system parameters"
    ces = next(s for s in model["sliders"] if s["key"] == "CES exponent")
    assert (ces["low"], ces["high"], ces["units"], ces["range_from"]) == (-8.0, 1.0, "Dmnl", "model")
    assert "balance index" in ces["description"]
    liberal = next(s for s in model["scenarios"] if s["name"] == "liberal")
    assert liberal["values"]["supremacy claim"] == 0.8


@pytest.mark.parametrize("values", [{}, {"supremacy claim": 0.2, "CES exponent": -2.5}])
def test_run_equals_sdkit_run_with_the_same_set(core, values):
    explorer, client = core
    answer = post(client, "run", {"scenario": "liberal", "values": values}).json()
    names = explorer.variables
    expected = sdkit.run(explorer.model, scenarios=["liberal"], set=values, variables=names)
    assert_allclose(answer["times"], expected["time"].values, rtol=0, atol=1e-12)
    for name in names:
        assert_allclose(_series(answer, name)[0], expected[name].sel(scenario="liberal").values, rtol=0, atol=1e-12)
    assert answer["outcome"] in ("stable_order", "collapse_then_new_order", "lasting_disorder")
    without = post(client, "run", {"scenario": "liberal", "values": values}, variables=["Power"]).json()
    assert list(without["series"]) == ["power"]
    assert without["outcome"] == answer["outcome"]


def test_four_orders_element_slider_runs_like_the_command_line(four):
    explorer, client = four
    model = client.get("/api/model").json()
    keys = {s["key"] for s in model["sliders"]}
    assert "supremacy claim[liberal]" in keys
    assert "coalition[liberal,sovereign]" in keys
    assert {v["name"] for v in model["variables"]} >= {"Order Legitimacy", "Order Power", "Disorder"}
    values = {"supremacy claim[liberal]": 0.5, "coalition[liberal,sovereign]": 0.25}
    answer = post(client, "run", {"scenario": "declining_leader", "values": values}).json()
    expected = sdkit.run(explorer.model, scenarios=["declining_leader"], set=values, variables=["order_power"])
    assert answer["elements"]["order_power"] == ["liberal", "transformative", "mercantilist", "sovereign"]
    assert_allclose(_series(answer, "order_power").T, expected["order_power"].sel(scenario="declining_leader").values,
                    rtol=0, atol=1e-12)


def test_a_model_without_configuration_gets_one_group_and_its_stocks(regions):
    explorer, client = regions
    model = client.get("/api/model").json()
    assert {s["group"] for s in model["sliders"]} == {"parameters"}
    assert [v["key"] for v in model["variables"]] == explorer.model.stocks
    assert [s["name"] for s in model["scenarios"]] == [None]
    key = next(s["key"] for s in model["sliders"] if "[" in s["key"])
    answer = post(client, "run", {"scenario": None, "values": {key: 0.03}}).json()
    expected = sdkit.run(explorer.model, set={key: 0.03}, variables=explorer.variables)
    name = explorer.variables[0]
    assert_allclose(_series(answer, name).T, expected[name].sel(scenario="default").values, rtol=0, atol=1e-12)
    assert answer["outcome"] is None
    assert model["has_checks"] is False
    assert post(client, "checks", {"scenario": None, "values": {}}).json()["checks"] == []


def test_checks_from_another_file(tmp_path):
    source = DATA / "checks_demo.checks.toml"
    other = tmp_path / "mine.checks.toml"
    other.write_text(source.read_text())
    explorer = Explorer(sdkit.load_model(DATA / "checks_demo.mdl"), checks=other)
    client = _client(explorer)
    answer = post(client, "checks", {"scenario": None, "values": {}}).json()
    assert explorer.checks_file == other
    assert [c["id"] for c in answer["checks"]] == [c.id for c in read_check_file(source).checks]


def test_a_constant_without_a_range_gets_zero_to_twice_its_value():
    explorer = Explorer(sdkit.load_model(DATA / "sens_linear.mdl"))
    client = _client(explorer)
    weight = next(s for s in client.get("/api/model").json()["sliders"] if s["key"] == "weight a")
    assert (weight["low"], weight["high"], weight["range_from"]) == (0.0, 2.0, "derived")


def test_fan_is_the_ensemble_of_the_draws_and_reproducible(core):
    explorer, client = core
    point = {"scenario": "liberal", "values": {"supremacy claim": 0.3}}
    fan = {"samples": 300, "spread": 0.1, "seed": 3}
    answer = post(client, "fan", point, fan=fan).json()
    again = post(client, "fan", point, fan=fan).json()
    assert answer["bands"] == again["bands"]
    other = post(client, "fan", point, fan={**fan, "seed": 4}).json()
    assert answer["bands"]["legitimacy"][0]["q50"] != other["bands"]["legitimacy"][0]["q50"]
    table = explorer.fan_table(Point("liberal", point["values"]), 300, 0.1, 3)
    assert "supremacy claim" not in table.columns
    assert "shock time" not in table.columns
    assert "CES exponent" in table.columns
    assert len(table) == 300
    runs = sdkit.ensemble(explorer.model, table.assign(**point["values"]), variables=["restraint"], scenario="liberal")
    quantiles = np.quantile(runs["restraint"].values, FAN_QUANTILES, axis=0)
    for q, key in zip(quantiles, ("q05", "q25", "q50", "q75", "q95"), strict=True):
        assert_allclose(answer["bands"]["restraint"][0][key], q, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(1000, 40, 3), (2, 5, 1), (7, 3, 2), (999, 10, 1)])
@pytest.mark.parametrize("quantiles", [FAN_QUANTILES, (0.0, 0.1, 1 / 3, 0.5, 0.9, 1.0)])
def test_sample_quantiles_are_numpys_to_the_bit(shape, quantiles):
    values = np.random.default_rng(sum(shape)).normal(size=shape)
    values[:, :2] = np.round(values[:, :2], 1)  # ties
    np.testing.assert_array_equal(sample_quantiles(values, quantiles), np.quantile(values, quantiles, axis=0))


def test_fan_refuses_bad_options(core):
    _, client = core
    for fan in ({"samples": 1}, {"samples": "1000"}, {"spread": 1.5}, {"seed": -1}):
        response = post(client, "fan", {"scenario": "liberal", "values": {}}, fan=fan)
        assert response.status_code == 400, fan


def test_checks_at_the_point_are_those_of_sdkit_check_with_the_values_set(core):
    explorer, client = core
    values = {"supremacy claim": 0.95}
    answer = post(client, "checks", {"scenario": "liberal", "values": values}).json()
    expected = run_checks(explorer.model, read_check_file(checks_path_for(CORE)).checks, extra=values)
    assert [c["id"] for c in answer["checks"]] == [r.id for r in expected]
    assert [c["passed"] for c in answer["checks"]] == [r.passed for r in expected]
    margins = [c["margin"] if c["margin"] is not None else np.nan for c in answer["checks"]]
    assert_allclose(margins, [r.margin for r in expected], rtol=0, atol=1e-12)
    assert answer["passed"] == sum(r.passed for r in expected)


def test_dominant_loops_at_the_point_are_those_of_loops_that_matter(core):
    from sdkit.loops.dominance import score_scenario
    from sdkit.loops.find import find_loops

    explorer, client = core
    values = {"supremacy claim": 0.2}
    answer = post(client, "loops", {"scenario": "liberal", "values": values}).json()
    assert answer["available"] is True
    report = find_loops(explorer.model)
    scored = score_scenario(explorer.model, "liberal", report.loops, pd.DataFrame({k: [v] for k, v in values.items()}), keep=[])
    leader = scored["dominant_loop"].values[0, 1:]
    first = answer["loops"][0]
    assert first["share"] == pytest.approx(float(np.mean(leader == first["id"])), abs=1e-12)
    assert all(first["share"] >= other["share"] for other in answer["loops"])
    assert first["polarity"] in ("balancing", "reinforcing")


def test_dominant_loops_of_a_subscripted_model_are_scored_element_by_element(four):
    from sdkit.loops.find import find_loops

    four_explorer, four_client = four
    subscripted = post(four_client, "loops", {"scenario": "declining_leader", "values": {}}).json()
    assert subscripted["available"] is True
    shares = [loop["share"] for loop in subscripted["loops"]]
    assert shares == sorted(shares, reverse=True)
    assert 0 < shares[0] <= 1
    assert {loop["id"] for loop in subscripted["loops"]} <= {loop.id for loop in find_loops(four_explorer.model).loops}


def test_copied_command_reproduces_the_view(core, tmp_path, capsys):
    explorer, client = core
    point = {"scenario": "liberal", "values": {"supremacy claim": 0.215, "restraint steepness": 17.3}}
    command = post(client, "command", point).json()["command"]
    argv = shlex.split(command)
    assert argv[:2] == ["sdkit", "run"]
    out = tmp_path / "view.nc"
    assert main([*argv[1:], "--vars", *explorer.variables, "--out", str(out)]) == 0
    capsys.readouterr()
    answer = post(client, "run", point).json()
    with xr.open_dataset(out) as ran:
        for name in explorer.variables:
            assert_allclose(_series(answer, name)[0], ran[name].sel(scenario="liberal").values, rtol=0, atol=1e-9)


def test_saved_scenario_runs_from_the_command_line(core, tmp_path, capsys):
    explorer, client = core
    target = tmp_path / "mine.scenarios.toml"
    point = {"scenario": "liberal", "values": {"supremacy claim": 0.35, "CES exponent": -1.5}}
    saved = post(client, "save", point, file=str(target), name="liberal_low_claim").json()
    assert saved["file"] == str(target.resolve())
    assert tomllib.loads(target.read_text())["liberal_low_claim"]["parameters"]["supremacy claim"] == 0.35
    out = tmp_path / "saved.nc"
    code = main(["run", str(CORE), "--scenarios", str(target), "--scenario", "liberal_low_claim",
                 "--vars", *explorer.variables, "--out", str(out)])
    capsys.readouterr()
    assert code == 0
    answer = post(client, "run", point).json()
    with xr.open_dataset(out) as ran:
        for name in explorer.variables:
            assert_allclose(_series(answer, name)[0], ran[name].sel(scenario="liberal_low_claim").values, rtol=0, atol=1e-9)
    second = post(client, "save", {"scenario": None, "values": {}}, file=str(target), name="own_values")
    assert second.status_code == 200
    assert set(tomllib.loads(target.read_text())) == {"liberal_low_claim", "own_values"}
    again = post(client, "save", point, file=str(target), name="liberal_low_claim")
    assert again.status_code == 400
    assert "already has" in again.json()["error"]
    for file, name in ((tmp_path / "x.txt", "ok"), (target, "bad name!")):
        assert post(client, "save", point, file=str(file), name=name).status_code == 400


@pytest.mark.parametrize(("fmt", "magic"), [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("svg", b"<?xml")])
def test_figure_export_formats(core, fmt, magic):
    _, client = core
    response = post(client, "figure", {"scenario": "liberal", "values": {"supremacy claim": 0.2}}, format=fmt)
    assert response.status_code == 200
    assert response.content.startswith(magic)
    assert "attachment" in response.headers["content-disposition"]


@pytest.mark.parametrize("fan", [None, {"samples": 50, "spread": 0.1, "seed": 0}])
def test_exported_view_passes_the_figure_lint(core, fan):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sdkit import plot
    from sdkit.explore.export import view_figure
    from sdkit.plot.lint import figure_problems

    explorer, _ = core
    with plot.style("double"):
        fig = view_figure(explorer, Point("liberal", {"supremacy claim": 0.2}), explorer.variables, fan)
    try:
        assert figure_problems(fig) == []
        assert len([ax for ax in fig.axes if ax.get_visible()]) == 6
    finally:
        plt.close(fig)


@pytest.mark.parametrize("values", [
    {"__import__('os').system('true')": 1.0},
    {"Legitimacy": 0.5},
    {"supremacy claim": 1.5},
    {"supremacy claim": "0.5"},
    {"supremacy claim": float("nan")},
])
def test_bad_parameters_are_refused(core, values):
    _, client = core
    response = client.post("/api/run", content=f'{{"client": "t", "seq": 1, "point": {{"scenario": "liberal", "values": {_json(values)}}}}}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]


def _json(values):
    import json

    return json.dumps(values)


def test_unknown_scenario_and_malformed_bodies_are_refused(core):
    _, client = core
    assert post(client, "run", {"scenario": "utopia", "values": {}}).status_code == 400
    assert client.post("/api/run", content=b"not json").status_code == 400
    assert client.post("/api/run", json=[1, 2]).status_code == 400
    assert client.post("/api/run", json={"seq": "one", "point": {}}).status_code == 400
    huge = client.post("/api/run", content=b"[" + b"0," * 1_000_000 + b"0]")
    assert huge.status_code == 400
    assert "larger than" in huge.json()["error"]


def test_other_hosts_and_origins_are_refused(core):
    explorer, _ = core
    app = create_app(explorer, hosts={"127.0.0.1:8050"}, status=_ready())
    client = starlette_testclient.TestClient(app, base_url="http://127.0.0.1:8050")
    assert client.get("/api/status").status_code == 200
    assert client.get("/api/status", headers={"origin": "http://127.0.0.1:8050"}).status_code == 200
    assert client.get("/api/status", headers={"origin": "http://evil.example"}).status_code == 403
    rebinding = starlette_testclient.TestClient(app, base_url="http://evil.example:8050")
    assert rebinding.get("/api/status").status_code == 403


def test_allowed_hosts_follow_the_listening_address():
    import socket

    from sdkit.explore.cli import allowed_hosts

    local = allowed_hosts("127.0.0.1", 8050)
    assert local == {"127.0.0.1:8050", "localhost:8050", "[::1]:8050"}
    assert allowed_hosts("192.0.2.7", 9000) == {"192.0.2.7:9000"}
    everywhere = allowed_hosts("0.0.0.0", 8050)
    assert {"127.0.0.1:8050", f"{socket.gethostname()}:8050"} <= everywhere
    assert "evil.example:8050" not in everywhere


def test_draws_run_one_by_one_give_the_batch_numbers(core):
    explorer, _ = core
    point = Point("liberal", {"supremacy claim": 0.3})
    overrides, time = explorer._plan(point)
    table, columns = explorer._draws(20, 0.1, 5)
    one_by_one, broken = explorer._finite_runs(overrides, time, columns, len(table), ["restraint"])
    fan = explorer.fan(point, samples=20, spread=0.1, seed=5, variables=["restraint"])
    assert broken == 0
    np.testing.assert_array_equal(np.quantile(one_by_one["restraint"], FAN_QUANTILES, axis=0)[2],
                                  fan["bands"]["restraint"][0]["q50"])


def _ready():
    status = Status()
    status.state = "ready"
    return status


def test_an_older_request_is_superseded_by_a_newer_one(core):
    _, client = core
    point = {"scenario": "liberal", "values": {}}
    assert "times" in post(client, "run", point, seq=10, who="pager").json()
    assert post(client, "run", point, seq=9, who="pager").json() == {"seq": 9, "superseded": True}
    assert "times" in post(client, "run", point, seq=9, who="another page").json()
    assert "times" in post(client, "run", point, seq=11, who="pager").json()


def test_a_slider_run_waits_for_no_fan_and_no_check(core):
    explorer, client = core
    with explorer.locks["slow"], explorer.locks["fan"]:  # as while a fan and a check are computed
        answer = post(client, "run", {"scenario": "liberal", "values": {"supremacy claim": 0.4}})
    assert answer.status_code == 200
    assert "times" in answer.json()


def test_latest_keeps_a_bounded_number_of_clients():
    latest = Latest(limit=3)
    for i in range(10):
        latest.note(f"c{i}", "run", 5)
    assert latest.superseded("c9", "run", 4)
    assert not latest.superseded("c9", "run", 5)
    assert not latest.superseded("c0", "run", 1)  # forgotten
    assert len(latest._seen) == 3


def test_requests_wait_while_the_model_compiles(core):
    explorer, _ = core
    client = starlette_testclient.TestClient(create_app(explorer, hosts={"testserver"}, status=Status()))
    assert client.get("/api/status").json()["state"] == "starting"
    assert post(client, "run", {"scenario": None, "values": {}}).status_code == 503
    assert client.get("/").status_code == 200


def test_a_model_the_engine_cannot_compile_is_reported_on_the_page(monkeypatch):
    from sdkit.errors import UnsupportedFeature

    explorer = Explorer(sdkit.load_model(DATA / "decay.mdl"))

    def cannot(step):
        step("compiling the model into the engine's kernel")
        raise UnsupportedFeature("the ensemble engine cannot compile decay.mdl (a test); use engine='pysd'")

    monkeypatch.setattr(explorer, "warm_up", cannot)
    client = _client(explorer)
    status = client.get("/api/status").json()
    assert status["state"] == "failed"
    assert "cannot compile decay.mdl" in status["error"]
    assert post(client, "run", {"scenario": None, "values": {}}).status_code == 503


def test_page_and_its_files_are_served(core):
    _, client = core
    page = client.get("/")
    assert page.status_code == 200
    assert "explore.js" in page.text
    script = client.get("/static/explore.js")
    assert script.status_code == 200
    assert "supersede" in script.text
    # nothing is fetched from elsewhere: the only address is the SVG namespace's name
    assert re.findall(r"https?://[^\"' ]+", page.text + script.text) == ["http://www.w3.org/2000/svg"]


def test_fifty_concurrent_slider_requests(core):
    import psutil

    explorer, client = core
    errors, answers = [], []

    def burst(offset):
        threads = [threading.Thread(target=one, args=(offset + i,)) for i in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def one(i):
        try:
            response = post(client, "run", {"scenario": "liberal", "values": {"supremacy claim": (i % 100) / 100}}, seq=i, who="burst")
            answers.append(response.json())
            if response.status_code != 200:
                errors.append(response.text)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(exc))

    burst(1000)
    memory = psutil.Process().memory_info().rss
    for round_ in range(3):
        burst(2000 + 100 * round_)
    grown = psutil.Process().memory_info().rss - memory
    assert errors == []
    assert len(answers) == 200
    assert any("times" in a for a in answers)
    assert any(a.get("superseded") for a in answers)
    assert grown < 50e6, f"memory grew by {grown / 1e6:.0f} MB over 150 requests"


def test_cli_refuses_bad_input(tmp_path, capsys):
    assert main(["explore", str(tmp_path / "missing.mdl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["explore", str(CORE), "--scenario", "utopia", "--port", "0"]) == 2
    assert "unknown scenario 'utopia'" in capsys.readouterr().err
    assert main(["explore", str(CORE), "--checks", str(tmp_path / "none.checks.toml"), "--port", "0"]) == 2
    assert "check the path given to --checks" in capsys.readouterr().err
    assert main(["explore", str(CORE), "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err


@pytest.mark.slow
def test_the_command_serves_the_page_until_interrupted():
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    server = subprocess.Popen([sys.executable, "-m", "sdkit", "explore", str(CORE), "--scenario", "versailles", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(CORE.parent.parent)})
    try:
        line = server.stdout.readline()
        address = re.search(r"at (http://127\.0\.0\.1:\d+/) ", line)
        assert address, line
        deadline = time.monotonic() + 120
        while json.load(urllib.request.urlopen(f"{address[1]}api/status"))["state"] != "ready":
            assert time.monotonic() < deadline, "the model never became ready"
            time.sleep(0.2)
        assert b"explore.js" in urllib.request.urlopen(address[1]).read()
        assert json.load(urllib.request.urlopen(f"{address[1]}api/model"))["scenario"] == "versailles"
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0

