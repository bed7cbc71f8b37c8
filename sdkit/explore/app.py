"""The explorer's web server: one static page and a JSON API, built on Starlette.

Every POST carries ``client`` (an id the page draws once) and ``seq`` (a number that
grows with each request the page sends). A request whose ``seq`` is older than the
newest one of the same kind from the same client is *superseded*: the server answers
``{"superseded": true}`` without computing it, and the page ignores stale answers.
Computations run in worker threads, one at a time per lane (single runs; fans;
checks, figures and saving), so a fan or a slow check never delays a slider's run,
and a burst of requests neither blocks the server nor grows its memory.

Every computed request is logged on the ``sdkit.explore.requests`` logger as one
line, ``explore kind=run seq=12 status=ok compute_ms=7.412 total_ms=8.105``
(``total_ms`` runs from the request's arrival to its answer, encoded as JSON), which
``benchmarks/explore.py`` reads.

Safety: requests must name this server in ``Host`` and, when they carry ``Origin``,
come from this server's own page (a page of another site cannot drive it, DNS
rebinding is refused); parameter names are checked against the model and values
against their ranges; nothing from a request is evaluated.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from sdkit.errors import SdkitError
from sdkit.explore.compute import Explorer
from sdkit.explore.point import command_for, parse_point, save_scenario

request_log = logging.getLogger("sdkit.explore.requests")
MAX_BODY = 1_000_000
#: Clients whose newest sequence numbers are kept (the oldest are forgotten first).
MAX_CLIENTS = 1024


class Latest:
    """The newest sequence number per (client, kind), for a bounded number of clients."""

    def __init__(self, limit: int = MAX_CLIENTS) -> None:
        self.limit = limit
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, client: str, kind: str, seq: int) -> None:
        with self._lock:
            key = (client, kind)
            self._seen[key] = max(seq, self._seen.get(key, seq))
            self._seen.move_to_end(key)
            while len(self._seen) > self.limit:
                self._seen.popitem(last=False)

    def superseded(self, client: str, kind: str, seq: int) -> bool:
        with self._lock:
            return self._seen.get((client, kind), seq) > seq


class Status:
    """Start-up progress: the steps of compiling, shown by the page until the model is ready."""

    STEPS = 4

    def __init__(self) -> None:
        self.state = "starting"
        self.step = ""
        self.done = 0
        self.error = ""
        self.started = time.perf_counter()

    def advance(self, step: str) -> None:
        self.state, self.step, self.done = "compiling", step, min(self.done + 1, self.STEPS)

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "step": self.step, "done": self.done, "steps": self.STEPS,
                "error": self.error, "seconds": round(time.perf_counter() - self.started, 1)}


def warm_up(explorer: Explorer, status: Status) -> None:
    """Compile and prepare the explorer, recording progress (run in a background thread)."""
    try:
        explorer.warm_up(status.advance)
        status.state, status.step, status.done = "ready", "ready", Status.STEPS
    except SdkitError as exc:
        status.state, status.error = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - shown on the page; the server stays up to show it
        status.state, status.error = "failed", f"internal error: {type(exc).__name__}: {exc}"


class Guard:
    """Refuse requests that name another host, or come from another origin's page (403)."""

    def __init__(self, app: ASGIApp, hosts: set[str]) -> None:
        self.app = app
        self.hosts = hosts
        self.origins = {f"http://{h}" for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            host, origin = headers.get("host", ""), headers.get("origin")
            if host not in self.hosts or (origin is not None and origin not in self.origins):
                what = f"origin {origin!r}" if host in self.hosts else f"host {host!r}"
                response = JSONResponse({"error": f"refused: {what} is not this explorer's own page"}, 403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _client_and_seq(body: dict[str, Any]) -> tuple[str, int]:
    client, seq = body.get("client", ""), body.get("seq", 0)
    if not isinstance(client, str) or len(client) > 64:
        raise SdkitError("`client` must be a short text id")
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise SdkitError("`seq` must be a whole number that grows with each request")
    return client, seq


def create_app(explorer: Explorer, hosts: set[str] | None = None, status: Status | None = None) -> ASGIApp:
    """The app serving ``explorer`` (Starlette inside the host and origin guard); ``hosts``
    are the ``Host`` values it answers.

    Without ``status`` the explorer is warmed up here, before the app is returned.
    """
    if status is None:
        status = Status()
        warm_up(explorer, status)
    latest = Latest()

    def ready() -> JSONResponse | None:
        if status.state == "ready":
            return None
        return JSONResponse({"error": f"the model is not ready ({status.state}: {status.step or status.error})",
                             "status": status.as_json()}, 503)

    def computed(kind: str) -> Callable:
        async def endpoint(request: Request) -> Response:
            arrived = time.perf_counter()
            if (waiting := ready()) is not None:
                return waiting
            try:
                body = await _json_body(request)
                client, seq = _client_and_seq(body)
                point = parse_point(explorer.model, explorer.sliders, body.get("point", {}))
            except SdkitError as exc:
                return JSONResponse({"error": str(exc)}, 400)
            latest.note(client, kind, seq)
            result, outcome, compute_ms = await run_in_threadpool(_compute, kind, client, seq, point, body)
            if outcome == "superseded":
                request_log.info("explore kind=%s seq=%d status=superseded", kind, seq)
                return JSONResponse({"seq": seq, "superseded": True})
            if outcome == "error":
                response: Response = JSONResponse({"seq": seq, "error": result}, 400)
            else:
                response = result if isinstance(result, Response) else JSONResponse({"seq": seq, **result})
            request_log.info("explore kind=%s seq=%d status=%s compute_ms=%.3f total_ms=%.3f",
                             kind, seq, outcome, compute_ms, (time.perf_counter() - arrived) * 1e3)
            return response

        return endpoint

    def _compute(kind: str, client: str, seq: int, point: Any, body: dict) -> tuple[Any, str, float]:
        """(result, "ok" | "error" | "superseded", milliseconds computing), one request at a time."""
        with explorer.locks[LANES.get(kind, "slow")]:
            if latest.superseded(client, kind, seq):
                return None, "superseded", 0.0
            started = time.perf_counter()
            try:
                result, outcome = WORK[kind](explorer, point, body), "ok"
            except SdkitError as exc:
                result, outcome = str(exc), "error"
            return result, outcome, (time.perf_counter() - started) * 1e3

    async def status_endpoint(request: Request) -> Response:
        return JSONResponse(status.as_json())

    async def model_endpoint(request: Request) -> Response:
        return ready() or JSONResponse({**explorer.describe(), "scenarios": explorer.scenarios()})

    async def index(request: Request) -> Response:
        page = files("sdkit.explore").joinpath("static/index.html").read_text(encoding="utf-8")
        return Response(page, media_type="text/html", headers={"Cache-Control": "no-store"})

    static = StaticFiles(directory=str(files("sdkit.explore").joinpath("static")))
    routes = [
        Route("/", index),
        Route("/api/status", status_endpoint),
        Route("/api/model", model_endpoint),
        *(Route(f"/api/{kind}", computed(kind), methods=["POST"]) for kind in WORK),
        Mount("/static", static),
    ]
    app = Starlette(routes=routes)
    app.state.explorer, app.state.status = explorer, status
    return Guard(app, hosts or {"127.0.0.1", "localhost"})


async def _json_body(request: Request) -> dict[str, Any]:
    import json

    raw = b""
    async for chunk in request.stream():  # read no more than the limit, however long the body
        raw += chunk
        if len(raw) > MAX_BODY:
            raise SdkitError(f"the request body is larger than {MAX_BODY:,} bytes; send one point at a time")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise SdkitError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise SdkitError("the request body must be a JSON object")
    return body


def _options(body: dict[str, Any]) -> dict[str, Any]:
    fan = body.get("fan") or {}
    if not isinstance(fan, dict):
        raise SdkitError("`fan` must be an object {samples, spread, seed}")
    return {"samples": fan.get("samples", 1000), "spread": fan.get("spread", 0.1), "seed": fan.get("seed", 0)}


def _figure(explorer: Explorer, point: Any, body: dict[str, Any]) -> Response:
    fmt = body.get("format", "png")
    data = explorer.figure(point, fmt, _options(body) if body.get("fan") else None, body.get("variables"))
    media = {"png": "image/png", "pdf": "application/pdf", "svg": "image/svg+xml"}[fmt]
    name = f"{explorer.model.name}-view.{fmt}"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _save(explorer: Explorer, point: Any, body: dict[str, Any]) -> dict[str, Any]:
    model = explorer.model
    path = save_scenario(model, point, str(body.get("file", "")), body.get("name"), str(body.get("description", ""))[:200])
    if model.scenarios_file and path == model.scenarios_file.resolve():
        from sdkit.scenarios import load_scenarios

        model.scenarios = load_scenarios(path, model)
    return {"file": str(path), "name": body.get("name"),
            "command": f"sdkit run {model.path} --scenarios {path} --scenario {body.get('name')}"}


#: The lane of each kind of request (:attr:`Explorer.locks`); the rest go to "slow".
LANES = {"run": "run", "command": "run", "fan": "fan"}

WORK: dict[str, Callable[[Explorer, Any, dict[str, Any]], Any]] = {
    "run": lambda e, p, b: e.run(p, b.get("variables")),
    "fan": lambda e, p, b: e.fan(p, **_options(b), variables=b.get("variables")),
    "checks": lambda e, p, b: e.checks(p),
    "loops": lambda e, p, b: e.dominant_loops(p),
    "command": lambda e, p, b: {"command": command_for(e.model, p)},
    "save": _save,
    "figure": _figure,
}
