"""Checks made before a stage's command starts, each failing with one plain line.

`make run`, `make migrate`, `make seed` and `make worker` all start the same way: read the
settings, make sure the services they name answer. When one of those fails, a newcomer
should read one sentence saying what is wrong and how to fix it, not a page of traceback
from deep inside asyncpg or pydantic.

`python -m roadmap_shared.preflight <package>` runs the settings and services checks alone
(the Makefile runs it before `seed` and `worker`).
"""

import importlib
import socket
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from roadmap_shared.settings import AppSettings


@dataclass(frozen=True)
class Kind:
    name: str  # as a person says it: "PostgreSQL"
    default_port: int
    compose_service: str  # its service in docker-compose.yml


# Which service a settings URL points to, by its scheme ("postgresql+asyncpg" counts as
# "postgresql"). URLs with other schemes (an S3 endpoint, say) are not checked.
KINDS = {
    "postgresql": Kind("PostgreSQL", 5432, "postgres"),
    "redis": Kind("Redis", 6379, "redis"),
    "rediss": Kind("Redis", 6380, "redis"),
    "amqp": Kind("RabbitMQ", 5672, "rabbitmq"),
}


@dataclass(frozen=True)
class RequiredService:
    name: str
    url: str
    env_var: str  # the setting that holds the URL, e.g. AUTH_DATABASE_URL
    compose_service: str

    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        kind = KINDS.get(parts.scheme.split("+")[0])
        return parts.hostname or "127.0.0.1", parts.port or (kind.default_port if kind else 0)


def required_services(settings: AppSettings) -> list[RequiredService]:
    """Every service a setting ending in `_url` points to, named by its variable."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    services = []
    for field, value in settings:
        if not (field.endswith("_url") and isinstance(value, str)):
            continue
        if kind := KINDS.get(urlsplit(value).scheme.split("+")[0]):
            env_var = (prefix + field).upper()
            services.append(RequiredService(kind.name, value, env_var, kind.compose_service))
    return services


def unreachable(services: Iterable[RequiredService]) -> list[str]:
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


def require_services(services: Sequence[RequiredService]) -> None:
    if problems := unreachable(services):
        raise SystemExit("\n".join(problems))


def _describe(error: ErrorDetails, prefix: str) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:  # a model validator: its message names the variables itself
        return message
    return f"{(prefix + str(error['loc'][0])).upper()}: {message}"


def load_settings(package: str) -> AppSettings:
    """`<package>.config.get_settings()`, or one line per invalid setting and exit 1."""
    config = importlib.import_module(f"{package}.config")
    try:
        settings: AppSettings = config.get_settings()
    except ValidationError as error:
        prefix = str(config.Settings.model_config.get("env_prefix", ""))
        raise SystemExit(
            "\n".join(f"{package} cannot start: {_describe(e, prefix)}" for e in error.errors())
        ) from None
    return settings


def port_taken(host: str, port: int) -> bool:
    """Whether another program already listens on host:port (uvicorn would fail to bind)."""
    family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by the last run is free, not taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return True
    return False


def main(argv: Sequence[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m roadmap_shared.preflight <stage package>")
    require_services(required_services(load_settings(argv[0])))


if __name__ == "__main__":
    main(sys.argv[1:])
