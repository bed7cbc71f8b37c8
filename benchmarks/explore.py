"""Latency of ``sdkit explore``: a slider move's run and fan, from the server's request log.

    python benchmarks/explore.py [--model models/kissinger_core.mdl] [--moves 50] [--fans 20] [--samples 1000]

Starts ``sdkit explore MODEL --port 0 --log FILE`` as a user would, waits until the
model is compiled (the start-up time is printed), then moves the first order
parameter's slider across its range: ``--moves`` single runs and ``--fans`` fans of
``--samples`` runs, one request at a time as the page sends them, and finally 50
slider requests at once. The latencies are the server's own, read from its request
log: ``total_ms`` from the request's arrival to its answer, ``compute_ms`` the
simulation alone. The targets: a run under 50 ms and a 1,000-sample fan under
250 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGETS_MS = {"run": 50.0, "fan": 250.0}
LOG_LINE = re.compile(r"kind=(\w+) seq=(\d+) status=(\w+)(?: compute_ms=([\d.]+) total_ms=([\d.]+))?")
BURST = 100_000


def post(url: str, kind: str, body: dict) -> dict:
    request = urllib.request.Request(f"{url}api/{kind}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def start_server(model: str, log: Path) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen([sys.executable, "-m", "sdkit", "explore", model, "--port", "0", "--log", str(log)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = process.stdout.readline()
    found = re.search(r"(http://\S+/)", line)
    if not found:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    url = found[1]
    while True:
        with urllib.request.urlopen(f"{url}api/status", timeout=30) as response:
            status = json.load(response)
        if status["state"] == "ready":
            return process, url, time.perf_counter() - started
        if status["state"] == "failed":
            raise SystemExit(f"the model failed to compile: {status['error']}")
        time.sleep(0.05)


def burst(url: str, slider: dict, count: int) -> int:
    """``count`` slider requests at once; returns how many failed."""
    failures = []

    def one(i: int) -> None:
        value = slider["low"] + (slider["high"] - slider["low"]) * (i % 20) / 19
        try:
            post(url, "run", {"client": "burst", "seq": BURST + i, "point": {"scenario": None, "values": {slider["key"]: value}}})
        except (urllib.error.URLError, OSError) as exc:
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "kissinger_core.mdl"))
    parser.add_argument("--moves", type=int, default=50)
    parser.add_argument("--fans", type=int, default=20)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "requests.log"
        process, url, startup = start_server(args.model, log)
        try:
            with urllib.request.urlopen(f"{url}api/model", timeout=60) as response:
                model = json.load(response)
            sliders = model["sliders"]
            slider = next((s for s in sliders if s["group"] == "order parameters"), sliders[0])
            scenario = model["scenario"]
            seq = 0
            for kind, count, extra in (("run", args.moves, {}),
                                       ("fan", args.fans, {"fan": {"samples": args.samples, "spread": 0.1, "seed": 0}})):
                for i in range(count + 1):  # the first request of each kind is the warm-up, not counted
                    seq += 1
                    value = slider["low"] + (slider["high"] - slider["low"]) * (i % 21) / 20
                    post(url, kind, {"client": "bench", "seq": seq, "point": {"scenario": scenario, "values": {slider["key"]: value}}, **extra})
            failed = burst(url, slider, 50)
        finally:
            process.terminate()
            process.wait(timeout=30)
        rows = [LOG_LINE.search(line) for line in log.read_text().splitlines()]
        entries = [(m[1], m[3], float(m[4] or "nan"), float(m[5] or "nan"), int(m[2])) for m in rows if m]
    report(args, model, slider, startup, entries, failed)


def report(args: argparse.Namespace, model: dict, slider: dict, startup: float, entries: list, failed: int) -> None:
    print(f"model {model['model']} (scenario {model['scenario'] or 'default'}), slider {slider['key']!r}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"start-up until the model is ready (load, compile, numba, baseline): {startup:.1f} s\n")
    print("| request | target | median total | p90 total | max total | median compute | target / median |")
    print("|---|---|---|---|---|---|---|")
    for kind in ("run", "fan"):
        done = [e for e in entries if e[0] == kind and e[1] == "ok" and e[4] < BURST][1:]
        total = np.array([e[3] for e in done])
        compute = np.array([e[2] for e in done])
        label = "single run" if kind == "run" else f"fan of {args.samples:,}"
        print(f"| {label} (n={len(done)}) | < {TARGETS_MS[kind]:.0f} ms | {np.median(total):.1f} ms | "
              f"{np.percentile(total, 90):.1f} ms | {total.max():.1f} ms | {np.median(compute):.1f} ms | "
              f"{TARGETS_MS[kind] / np.median(total):.1f}x |")
    burst_entries = [e for e in entries if e[4] >= BURST]
    computed = sum(e[1] == "ok" for e in burst_entries)
    skipped = sum(e[1] == "superseded" for e in burst_entries)
    print(f"\n50 slider requests at once: {failed} failed, {computed} computed, {skipped} superseded (skipped)")


if __name__ == "__main__":
    main()
