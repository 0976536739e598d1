"""Running a stage: check that its services answer, then start uvicorn.

A stage that cannot reach PostgreSQL should say so in one line, with how to fix it,
instead of starting and failing on the first request with a page of traceback.
"""

import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from roadmap_shared.http_protocol import http_protocol
from roadmap_shared.settings import AppSettings

DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379, "amqp": 5672}


@dataclass(frozen=True)
class RequiredService:
    name: str  # as a person says it: "PostgreSQL"
    url: str
    env_var: str  # the setting that holds the URL, e.g. AUTH_DATABASE_URL
    compose_service: str  # its service in docker-compose.yml

    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        scheme = parts.scheme.split("+")[0]
        return parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORTS.get(scheme, 0)


def unreachable(services: Sequence[RequiredService]) -> list[str]:
    """One line per service that does not accept a TCP connection."""
    problems = []
    for service in services:
        host, port = service.address()
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError:
            problems.append(
                f"{service.name} is not reachable at {host}:{port}. Start it with "
                f"`docker compose up -d {service.compose_service}`, or set {service.env_var} "
                f"to the URL of a running {service.name}."
            )
    return problems


def serve(
    app_factory: str, settings: AppSettings, services: Sequence[RequiredService] = ()
) -> None:
    """Runs `app_factory` ("package.main:create_app") with uvicorn once `services` answer."""
    if problems := unreachable(services):
        print("\n".join(problems), file=sys.stderr)
        raise SystemExit(1)
    uvicorn.run(app_factory, factory=True, **uvicorn_options(settings))


def uvicorn_options(settings: AppSettings) -> dict[str, Any]:
    """How every stage runs uvicorn (the tests start servers with the same options)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,  # our JSON logging, configured by the app factory
        # X-Forwarded-* is believed only from the proxies named in the settings.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": ",".join(settings.forwarded_allow_ips) or None,
        # Request heads over the cap get 431 before they fill memory.
        "http": http_protocol(settings.max_header_bytes),
        # Naming the server and its version only helps whoever looks for a known flaw.
        # (`Date` stays: RFC 9110 asks a server with a clock to send it.)
        "server_header": False,
    }
