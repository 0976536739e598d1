"""`python -m <stage package>`: check the settings, the services and the port, then serve.

Every stage's `__main__.py` is one call to `run_stage`, so `make run` behaves the same in
each: `--port` (make run PORT=8001) overrides the settings' port, `--reload` (make run
RELOAD=1) restarts the server when a file of the stage or of shared/ changes, and anything
that would stop the server at start (a placeholder secret in production, PostgreSQL down,
the port taken) is said in one line instead of a traceback.
"""

import argparse
import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from roadmap_shared.http_protocol import http_protocol
from roadmap_shared.logging import configure_logging
from roadmap_shared.preflight import (
    load_settings,
    port_taken,
    require_services,
    required_services,
)
from roadmap_shared.settings import AppSettings

SHARED_SOURCE = Path(__file__).resolve().parent


def _arguments(package: str, argv: Sequence[str] | None) -> argparse.Namespace:
    description = f"Serve {package}'s API once its settings, services and port are checked."
    parser = argparse.ArgumentParser(prog=f"python -m {package}", description=description)
    parser.add_argument("--port", type=int, help="listen on this port instead of the setting's")
    parser.add_argument(
        "--reload", action="store_true", help="restart when the code changes (development)"
    )
    return parser.parse_args(argv)


def run_stage(
    package: str,
    argv: Sequence[str] | None = None,
    *,
    check: Callable[[], None] | None = None,
) -> None:
    """Serves `<package>.main:create_app`. `check` is a stage's own start-up check, run
    once the settings are known to be valid; it raises SystemExit with one line."""
    arguments = _arguments(package, argv)
    settings = load_settings(package)
    if check is not None:
        check()
    require_services(required_services(settings))
    port = arguments.port or settings.port
    if port_taken(settings.host, port):
        variable = f"{settings.model_config.get('env_prefix', '')}PORT"
        raise SystemExit(
            f"Port {port} on {settings.host} is already in use by another program. Stop it, "
            f"or choose another port: `make run PORT={port + 1}` or set {variable}={port + 1}."
        )
    source = Path(importlib.import_module(package).__file__ or "").resolve().parent
    reload_dirs = [source, SHARED_SOURCE] if arguments.reload else None
    serve(f"{package}.main:create_app", settings, port=port, reload_dirs=reload_dirs)


def serve(
    app_factory: str,
    settings: AppSettings,
    *,
    port: int | None = None,
    reload_dirs: Sequence[Path] | None = None,
) -> None:
    """Runs `app_factory` ("package.main:create_app") with uvicorn; with `reload_dirs`,
    in a child process restarted whenever a file under them changes."""
    configure_logging(settings.log_level)  # uvicorn's own messages go through it too
    options = uvicorn_options(settings)
    if reload_dirs is not None:
        # The reloader hands its options to a fresh process, which cannot receive the
        # protocol class made for the header cap: development runs use uvicorn's own.
        del options["http"]
    uvicorn.run(
        app_factory,
        factory=True,
        **options | {"port": port or settings.port},
        reload=reload_dirs is not None,
        reload_dirs=[str(directory) for directory in reload_dirs or ()],
    )


def uvicorn_options(settings: AppSettings) -> dict[str, Any]:
    """How every stage runs uvicorn (the tests start servers with the same options)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,  # our logging (configure_logging), not uvicorn's
        # X-Forwarded-* is believed only from the proxies named in the settings.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": ",".join(settings.forwarded_allow_ips) or None,
        # Request heads over the cap get 431 before they fill memory; heads (like bodies)
        # that have not arrived within the read deadline get 408.
        "http": http_protocol(settings.max_header_bytes, settings.body_read_timeout_seconds),
        # Naming the server and its version only helps whoever looks for a known flaw.
        # (`Date` stays: RFC 9110 asks a server with a clock to send it.)
        "server_header": False,
    }
