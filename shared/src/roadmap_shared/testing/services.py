"""Finding the services a suite needs: a URL from the environment, else a container.

CI and machines without Docker set `TEST_POSTGRES_URL`, `TEST_REDIS_URL` and
`TEST_RABBITMQ_URL`; with Docker and none of them set, testcontainers starts pinned images.
"""

import os
import socket
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

POSTGRES_IMAGE = "postgres:17.2-alpine"
REDIS_IMAGE = "redis:7.4.1-alpine"
RABBITMQ_IMAGE = "rabbitmq:4.0.4-alpine"


class ServiceNotFound(RuntimeError):
    """No URL in the environment, and no container could be started for the service.
    (Not `roadmap_shared.errors.ServiceUnavailable`, the 503 a stage answers with.)"""


@dataclass(frozen=True)
class Service:
    name: str
    env_var: str
    example_url: str
    image: str
    start: Callable[[ExitStack], str]
    default_port: int
    compose_service: str  # its service in docker-compose.yml

    def url(self, containers: ExitStack) -> str:
        """The service's URL from the environment, or from a container started now."""
        if url := os.environ.get(self.env_var):
            return url
        try:
            return self.start(containers)
        except Exception as exc:  # no Docker, image missing, container failed to start
            raise ServiceNotFound(self._not_found(exc)) from exc

    def problem(self) -> str | None:
        """Why the tests cannot have this service, in one line; None if they can.

        Checked once before the first test, so that a suite without its services stops
        at once with this line instead of failing every test with a traceback.
        """
        if url := os.environ.get(self.env_var):
            parts = urlsplit(url)
            host, port = parts.hostname or "127.0.0.1", parts.port or self.default_port
            try:
                socket.create_connection((host, port), timeout=2).close()
            except OSError:
                return (
                    f"{self.name} is not reachable at {host}:{port} ({self.env_var}). Start "
                    f"it (`docker compose up -d {self.compose_service}`), or set {self.env_var} "
                    f"to a running {self.name}, or unset it to let the harness start "
                    f"{self.image} with Docker."
                )
            return None
        try:
            _docker_ping()
        except Exception as exc:  # no docker package, no daemon, no permission
            return self._not_found(exc)
        return None

    def _not_found(self, exc: Exception) -> str:
        reason = (str(exc).splitlines() or [""])[0][:200]
        return (
            f"{self.name} is needed by these tests but none was found. Either set "
            f"{self.env_var} (for example {self.env_var}={self.example_url}), or start "
            f"Docker so the harness can run {self.image} with testcontainers "
            f"(it failed with: {type(exc).__name__}: {reason})."
        )


def _docker_ping() -> None:
    import docker  # type: ignore[import-untyped]  # noqa: PLC0415  (slow; rarely needed)

    docker.from_env(timeout=3).ping()


# testcontainers is imported only when a container is really needed: it is slow to import
# and CI, which passes URLs, never needs it.


def _start_postgres(containers: ExitStack) -> str:
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

    container: Any = containers.enter_context(PostgresContainer(POSTGRES_IMAGE, driver=None))
    return str(container.get_connection_url())


def _start_redis(containers: ExitStack) -> str:
    from testcontainers.redis import RedisContainer  # noqa: PLC0415

    container: Any = containers.enter_context(RedisContainer(REDIS_IMAGE))
    host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
    return f"redis://{host}:{port}"


def _start_rabbitmq(containers: ExitStack) -> str:
    from testcontainers.rabbitmq import RabbitMqContainer  # noqa: PLC0415

    container: Any = containers.enter_context(RabbitMqContainer(RABBITMQ_IMAGE))
    host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
    return f"amqp://guest:guest@{host}:{port}/"


POSTGRES = Service(
    "PostgreSQL",
    "TEST_POSTGRES_URL",
    "postgresql://postgres@127.0.0.1:5432/postgres",
    POSTGRES_IMAGE,
    _start_postgres,
    5432,
    "postgres",
)
REDIS = Service(
    "Redis",
    "TEST_REDIS_URL",
    "redis://127.0.0.1:6379",
    REDIS_IMAGE,
    _start_redis,
    6379,
    "redis",
)
RABBITMQ = Service(
    "RabbitMQ",
    "TEST_RABBITMQ_URL",
    "amqp://guest:guest@127.0.0.1:5672/",
    RABBITMQ_IMAGE,
    _start_rabbitmq,
    5672,
    "rabbitmq",
)
