"""The service's app: no API, only `/healthz`, `/readyz` and `/metrics`, around the
consumer, which runs for as long as the app does (see `worker.consuming`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aio_pika.abc import AbstractRobustConnection
from fastapi import FastAPI

from notifications.config import Settings, get_settings
from notifications.worker import consuming
from roadmap_shared import tracing
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database
from roadmap_shared.mail import Mailer


class BrokerUnavailable(RuntimeError):
    pass


SERVICE_NAME = "notifications"


def create_app(
    settings: Settings | None = None,
    *,
    mailer: Mailer | None = None,
    tracer_provider: tracing.TracerProvider | None = None,
) -> FastAPI:
    """`mailer`: where emails go; by default the one the settings choose (`build_mailer`).
    `tracer_provider`: where the spans go; by default, the collector that
    `OTEL_EXPORTER_OTLP_ENDPOINT` names, or nowhere (tracing off) when it is unset."""
    settings = settings or get_settings()
    tracer_provider = tracer_provider or tracing.tracer_provider_from_settings(SERVICE_NAME)
    database = Database.from_settings(settings, pool_size=settings.prefetch)
    broker: list[AbstractRobustConnection] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            async with consuming(
                settings, database, mailer, tracer_provider=tracer_provider
            ) as connection:
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
        title="Notifications",
        description="Sends the shop's emails, from its events. No API of its own.",
        lifespan=lifespan,
        readiness_checks={"postgres": database.ping, "rabbitmq": broker_connected},
        tracer_provider=tracer_provider,
    )
