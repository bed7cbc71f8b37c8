"""``sdkit explore MODEL``: serve the explorer on this machine and print its address."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import threading
from typing import Any

from sdkit.cli_options import add_shared
from sdkit.errors import SdkitError

DEFAULT_PORT = 8050


def add_explore_parser(sub: Any, help_text: str) -> None:
    p = sub.add_parser("explore", help=help_text)
    add_shared(p, "model")
    p.add_argument("--scenario", metavar="NAME", help="scenario the sliders start from (default: the model's own values)")
    add_shared(p, "--scenarios")
    p.add_argument("--checks", metavar="FILE.toml", help="checks file shown live (default: <model>.checks.toml beside the model)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="P", help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", metavar="HOST", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--log", metavar="FILE", help="also append the request log (one line per computed request) to FILE")


def _listen(host: str, port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise SdkitError(f"--port {port} is not a port number; give 0 to 65535 (0 picks a free one)")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise SdkitError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                         "choose another --port (0 picks a free one) or --host") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def allowed_hosts(host: str, port: int) -> set[str]:
    """The ``Host`` values the server answers: the address it listens on, this machine's
    own names for a local or wildcard address, and its own addresses for a wildcard."""
    names = {f"[{host}]" if ":" in host else host}
    if host in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    if host in ("0.0.0.0", "::"):
        machine = socket.gethostname()
        names |= {machine, socket.getfqdn()}
        try:
            names |= {info[4][0] if ":" not in info[4][0] else f"[{info[4][0]}]"
                      for info in socket.getaddrinfo(machine, None)}
        except OSError:
            pass
    return {f"{name}:{port}" for name in names}


def _log_requests(path: str | None) -> None:
    log = logging.getLogger("sdkit.explore.requests")
    log.setLevel(logging.INFO)
    log.propagate = False
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path:
        try:
            handlers.append(logging.FileHandler(path, encoding="utf-8"))
        except OSError as exc:
            raise SdkitError(f"cannot write --log {path} ({exc.strerror or exc}); give a writable file") from None
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)


def cmd_explore(args: argparse.Namespace) -> int:
    import uvicorn

    from sdkit.explore.app import Status, create_app, warm_up
    from sdkit.explore.compute import Explorer
    from sdkit.model import load_model

    model = load_model(args.model, scenarios=args.scenarios)
    explorer = Explorer(model, args.scenario, args.checks)
    sock = _listen(args.host, args.port)
    port = sock.getsockname()[1]
    _log_requests(args.log)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    hosts = allowed_hosts(args.host, port)
    status = Status()
    app = create_app(explorer, hosts=hosts, status=status)
    threading.Thread(target=warm_up, args=(explorer, status), daemon=True, name="sdkit-warm-up").start()
    print(f"sdkit explore: serving {model.path.name} at http://{shown}:{port}/ (Ctrl-C stops)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"sdkit: warning: listening on {args.host}: other machines can reach this explorer", file=sys.stderr)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C is how a server is stopped: not an error
        pass
    print("sdkit explore: stopped", flush=True)
    return 0
