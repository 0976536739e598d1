"""The service's app: no API, only `/healthz`, `/readyz` and `/metrics`, around the
consumer, which runs for as long as the app does (see `worker.consuming`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aio_pika.abc import AbstractRobustConnection
from fastapi import FastAPI

import audit.metrics  # noqa: F401  (registers the business metrics served at /metrics)
from audit.config import Settings, get_settings
from audit.worker import consuming
from roadmap_shared import tracing
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database


class BrokerUnavailable(RuntimeError):
    pass


SERVICE_NAME = "audit"


def create_app(
    settings: Settings | None = None,
    *,
    tracer_provider: tracing.TracerProvider | None = None,
) -> FastAPI:
    """`tracer_provider`: where the spans go; by default, the collector that
    `OTEL_EXPORTER_OTLP_ENDPOINT` names, or nowhere (tracing off) when it is unset."""
    settings = settings or get_settings()
    tracer_provider = tracer_provider or tracing.tracer_provider_from_settings(SERVICE_NAME)
    database = Database.from_settings(settings, pool_size=settings.prefetch)
    broker: list[AbstractRobustConnection] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            async with consuming(settings, database, tracer_provider=tracer_provider) as connection:
                broker.append(connection)
                yield
        finally:
            await database.dispose()

    async def broker_connected() -> None:
        # While the robust connection is reconnecting, no message is being consumed.
        if not broker or broker[0].is_closed:
            raise BrokerUnavailable("not connected to RabbitMQ")

    return create_base_app(
        settings,
        title="Audit",
        description="Records every payment event in a hash chain. No API of its own.",
        lifespan=lifespan,
        readiness_checks={"postgres": database.ping, "rabbitmq": broker_connected},
        tracer_provider=tracer_provider,
    )
