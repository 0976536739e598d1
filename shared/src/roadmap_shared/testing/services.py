"""Finding the services a suite needs: a URL from the environment, else a container.

CI and machines without Docker set `TEST_POSTGRES_URL`, `TEST_REDIS_URL` and
`TEST_RABBITMQ_URL`; with Docker and none of them set, testcontainers starts pinned images.
"""

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

POSTGRES_IMAGE = "postgres:17.2-alpine"
REDIS_IMAGE = "redis:7.4.1-alpine"
RABBITMQ_IMAGE = "rabbitmq:4.0.4-alpine"


class ServiceUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Service:
    name: str
    env_var: str
    example_url: str
    image: str
    start: Callable[[ExitStack], str]

    def url(self, containers: ExitStack) -> str:
        """The service's URL from the environment, or from a container started now."""
        if url := os.environ.get(self.env_var):
            return url
        try:
            return self.start(containers)
        except Exception as exc:  # no Docker, image missing, container failed to start
            raise ServiceUnavailable(
                f"{self.name} is needed by these tests but none was found. Either set "
                f"{self.env_var} (for example {self.env_var}={self.example_url}), or start "
                f"Docker so the harness can run {self.image} with testcontainers "
                f"(it failed with: {type(exc).__name__}: {exc})."
            ) from exc


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
)
REDIS = Service("Redis", "TEST_REDIS_URL", "redis://127.0.0.1:6379", REDIS_IMAGE, _start_redis)
RABBITMQ = Service(
    "RabbitMQ",
    "TEST_RABBITMQ_URL",
    "amqp://guest:guest@127.0.0.1:5672/",
    RABBITMQ_IMAGE,
    _start_rabbitmq,
)
