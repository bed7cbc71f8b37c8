"""`sdkit explore` in a real browser: headless Chromium, driven over the DevTools protocol.

The test drags a slider with the mouse, waits for the redraw, reads the plotted
values back from the page and compares them with ``sdkit run --set`` for the value
the slider shows. It needs Debian's ``chromium`` (``apt-get install chromium``) and
the ``websocket-client`` package, and skips, saying so, where either is missing.
Set ``SDKIT_EXPLORE_SCREENSHOT=path.png`` to keep a screenshot of the page.
"""

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request

import numpy as np
import pytest
import xarray as xr

import sdkit
from sdkit.cli import main
from sdkit.explore import Explorer, create_app
from sdkit.explore.cli import _listen
from tests.conftest import MODELS

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
SLIDER = "supremacy claim"
SCENARIO = "liberal"


def _browser():
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        pytest.skip("no Chromium installed (apt-get install chromium): the browser test of sdkit explore is skipped")
    return found


class DevTools:
    """The few DevTools protocol calls the test needs, over one page's websocket."""

    def __init__(self, url):
        import websocket

        self.socket = websocket.create_connection(url, timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=90.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.1)
        raise AssertionError(f"the page never satisfied {expression!r} within {timeout:g} s")


@pytest.fixture(scope="module")
def server():
    import uvicorn

    explorer = Explorer(sdkit.load_model(MODELS / "kissinger_core.mdl"), SCENARIO)
    sock = _listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app(explorer, hosts={f"127.0.0.1:{port}"})
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/", explorer
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium's page, driven over the DevTools protocol."""
    binary = _browser()
    pytest.importorskip("websocket", reason="the websocket-client package drives the browser")
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-allow-origins=*",
         "--window-size=1400,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (active.exists() and active.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        port = active.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
            targets = json.load(response)
        tools = DevTools(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        yield tools
        tools.socket.close()
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def page(server, browser):
    """The explorer's page, loaded and settled, whichever test of the module runs first (pytest-xdist may give a
    worker any of them)."""
    browser.call("Page.navigate", url=server[0])
    browser.wait_for("document.body?.dataset.ready === 'true'")
    browser.wait_for(SETTLED)
    return browser


def _drag(page, selector, start, end):
    """Press the mouse on a slider at fraction ``start`` of its width, move to ``end``, release."""
    box = page.evaluate(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView({{block: 'center'}});"
        " const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")
    left, top, width, height = box
    y = top + height / 2
    page.call("Input.dispatchMouseEvent", type="mousePressed", x=left + start * width, y=y, button="left", clickCount=1)
    for step in range(1, 11):
        x = left + (start + (end - start) * step / 10) * width
        page.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left", buttons=1)
    page.call("Input.dispatchMouseEvent", type="mouseReleased", x=left + end * width, y=y, button="left", clickCount=1)


SETTLED = "!inFlight.run && !waiting.run && Number(document.body.dataset.runSeq) === newest.run"


def test_dragging_a_slider_redraws_what_sdkit_run_computes(server, page, tmp_path, capsys):
    url, explorer = server
    selector = f'[id="slider-{SLIDER}"]'
    _drag(page, selector, 0.15, 0.35)
    page.wait_for(SETTLED)
    shown = float(page.evaluate(f"document.querySelector({json.dumps(selector)}).value"))
    assert shown != 0.8, "the slider did not move from the scenario's value"
    assert 0.1 < shown < 0.45
    plotted = page.evaluate(
        "[...document.querySelectorAll('svg[data-variable] path[data-role=current]')]"
        ".map(p => [p.closest('svg').dataset.variable, JSON.parse(p.dataset.values), JSON.parse(p.dataset.times)])")
    assert [name for name, _, _ in plotted] == explorer.variables
    out = tmp_path / "cli.nc"
    assert main(["run", str(MODELS / "kissinger_core.mdl"), "--scenario", SCENARIO, "--set", f"{SLIDER}={shown!r}",
                 "--vars", *explorer.variables, "--out", str(out)]) == 0
    capsys.readouterr()
    with xr.open_dataset(out) as ran:
        for name, values, times in plotted:
            np.testing.assert_allclose(times, ran["time"].values, rtol=0, atol=1e-9)
            np.testing.assert_allclose(values, ran[name].sel(scenario=SCENARIO).values, rtol=0, atol=1e-9)
    baseline = page.evaluate("document.querySelectorAll('path[data-role=baseline]').length")
    assert baseline == len(explorer.variables)


def test_save_as_scenario_from_the_page(server, page, tmp_path, capsys):
    target = tmp_path / "from-page.scenarios.toml"
    page.evaluate("document.getElementById('save').click()")
    page.evaluate(f"document.getElementById('save-file').value = {json.dumps(str(target))}")
    page.evaluate("document.getElementById('save-name').value = 'dragged'")
    page.evaluate("document.getElementById('save-confirm').click()")
    page.wait_for("/^saved dragged/.test(document.getElementById('latency').textContent)")
    shown = float(page.evaluate(f"document.querySelector('[id=\"slider-{SLIDER}\"]').value"))
    out = tmp_path / "saved.nc"
    assert main(["run", str(MODELS / "kissinger_core.mdl"), "--scenarios", str(target), "--scenario", "dragged",
                 "--vars", "restraint", "--out", str(out)]) == 0
    capsys.readouterr()
    with xr.open_dataset(out) as ran:
        expected = sdkit.run(sdkit.load_model(MODELS / "kissinger_core.mdl"), scenarios=[SCENARIO],
                             set={SLIDER: shown}, variables=["restraint"])
        np.testing.assert_allclose(ran["restraint"].values[0], expected["restraint"].values[0], rtol=0, atol=1e-9)


def test_export_figure_downloads_a_png(server, page, tmp_path):
    page.call("Page.setDownloadBehavior", behavior="allow", downloadPath=str(tmp_path))
    page.evaluate("document.getElementById('format').value = 'png'")
    page.evaluate("document.getElementById('export').click()")
    page.wait_for("/^exported/.test(document.getElementById('latency').textContent)")
    target = tmp_path / "kissinger_core-view.png"
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.read_bytes().startswith(b"\x89PNG")


def test_copy_command_shows_the_command(server, page):
    _drag(page, f'[id="slider-{SLIDER}"]', 0.2, 0.3)  # a value of its own, whichever test ran before
    page.wait_for(SETTLED)
    page.evaluate("document.getElementById('copy').click()")
    page.wait_for("/^command (copied|selected)/.test(document.getElementById('latency').textContent)")
    command = page.evaluate("document.getElementById('command').textContent")
    assert command.startswith(f"sdkit run {MODELS / 'kissinger_core.mdl'} --scenario {SCENARIO} --set '{SLIDER}=")


def test_uncertainty_bands_and_checks_appear(server, page):
    page.evaluate("document.getElementById('uncertainty').click()")
    page.wait_for("document.body.dataset.fanSeq && !inFlight.fan && !waiting.fan && Number(document.body.dataset.fanSeq) === newest.fan")
    page.wait_for("document.querySelectorAll('path[data-role=band90]').length === 6")
    assert page.evaluate("document.querySelectorAll('path[data-role=band50]').length") == 6
    assert page.evaluate("document.querySelectorAll('path[data-role=median]').length") == 6
    page.wait_for("/passed/.test(document.getElementById('check-summary').textContent)")
    page.wait_for("document.querySelectorAll('#loop-list li').length > 0")
    rows = page.evaluate("document.querySelectorAll('#check-list li').length")
    assert rows > 50
    assert page.evaluate("document.getElementById('command').textContent").startswith("sdkit run ")
    page.evaluate("document.querySelector('#variable-list input[value=revisionist_pressure]').click()")
    page.wait_for("document.querySelectorAll('svg[data-variable=revisionist_pressure] path[data-role=current]').length === 1")
    page.wait_for("document.querySelectorAll('svg[data-variable=revisionist_pressure] path[data-role=baseline]').length === 1")
    assert page.evaluate("document.querySelectorAll('svg[data-variable]').length") == 7
    keep = os.environ.get("SDKIT_EXPLORE_SCREENSHOT")
    if keep:
        import base64

        shot = page.call("Page.captureScreenshot", format="png")
        with open(keep, "wb") as handle:
            handle.write(base64.b64decode(shot["data"]))
