"""One checkout is one trace, across the three services: orders' request, the catalog's
reservation calls, the relay's publish, and notifications' handling and email.

How the services run here, and why that proves propagation. The end-to-end suite runs
each service as a process of its own; reading their spans would need a collector (or an
exporter to files) that the suite does not otherwise have. Instead each service is built
in this process with its own tracer provider (so each span names its service), all of
them exporting to one in-memory exporter, and every boundary is still a real one that
only a `traceparent` can cross:
- the catalog is served by uvicorn in a thread of its own, with its own event loop, and
  orders calls it over TCP: nothing of orders' context reaches it but the HTTP headers;
- the relay runs after the request has finished, outside any span, as its process does:
  only the `traceparent` stored in the outbox row links its publish to the checkout;
- notifications consumes from the real RabbitMQ, in aio-pika's delivery tasks: only the
  message headers link its work to the publish.
Without any one of these links the spans fall into two traces, and the test fails.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import pytest_asyncio
from aio_pika import connect_robust
from fastapi import FastAPI
from httpx import AsyncClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from catalog.config import Settings as CatalogSettings
from catalog.main import create_app as create_catalog_app
from notifications.config import Settings as NotificationsSettings
from notifications.worker import consuming
from notifications.worker import subscription as subscription_of
from orders.config import Settings
from orders.main import create_app
from orders.models import OutboxEvent, User
from roadmap_shared import tracing
from roadmap_shared.database import Database
from roadmap_shared.messaging import publish_pending
from roadmap_shared.messaging.relay import open_publisher
from roadmap_shared.security.public_keys import JWKS_PATH
from roadmap_shared.testing.databases import migrated_database
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.live_server import live_server
from roadmap_shared.testing.messaging import eventually, topology_removed_after
from tests.orders.conftest import orders_settings
from tests.orders.factories import CHECKOUT, make_variant, put_in_cart

pytestmark = pytest.mark.slow

SERVICES = ("orders", "catalog", "notifications")
NOTIFICATIONS_ALEMBIC_INI = Path(__file__).parents[2] / "src/notifications/alembic.ini"


class MailSink:
    """Where notifications' emails go: the mail server is not what this test is about."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def providers(exporter: InMemorySpanExporter) -> dict[str, tracing.TracerProvider]:
    return {name: tracing.tracer_provider(name, exporter) for name in SERVICES}


@pytest.fixture
def traced_catalog_url(
    catalog_database_url: str, redis_url: str, providers: dict[str, tracing.TracerProvider]
) -> Iterator[str]:
    keys = FastAPI()
    keys.get(JWKS_PATH)(orders_settings().token_signer().jwks)
    with live_server(keys, orders_settings()) as keys_port:
        settings = settings_for_tests(
            CatalogSettings,
            database_url=catalog_database_url,
            redis_url=redis_url,
            cache_ttl_seconds=0,
            jwks_url=f"http://127.0.0.1:{keys_port}{JWKS_PATH}",
        )
        app = create_catalog_app(settings, tracer_provider=providers["catalog"])
        with live_server(app, settings) as port:
            yield f"http://127.0.0.1:{port}"


@pytest.fixture
def settings(database_url: str, redis_url: str, traced_catalog_url: str) -> Settings:
    return orders_settings(
        database_url=database_url, redis_url=redis_url, catalog_url=traced_catalog_url
    )


@pytest.fixture
def app(
    settings: Settings, redis_client: Redis, providers: dict[str, tracing.TracerProvider]
) -> FastAPI:
    return create_app(settings, tracer_provider=providers["orders"])


@pytest.fixture(scope="module")
def notifications_database_url(postgres_url: str) -> Iterator[str]:
    with migrated_database(
        postgres_url, "test_ms_tracing_notifications", NOTIFICATIONS_ALEMBIC_INI
    ) as url:
        yield url


@pytest_asyncio.fixture
async def notifications(
    notifications_database_url: str,
    rabbitmq_url: str,
    providers: dict[str, tracing.TracerProvider],
) -> AsyncIterator[NotificationsSettings]:
    """The notifications consumer, running, on an exchange and a queue of this test's own."""
    settings = settings_for_tests(
        NotificationsSettings,
        database_url=notifications_database_url,
        rabbitmq_url=rabbitmq_url,
        events_exchange=f"test.tracing.{id(providers)}",
        consumer_name=f"test.tracing.notifications.{id(providers)}",
    )
    database = Database.from_settings(settings)
    async with (
        topology_removed_after(rabbitmq_url, subscription_of(settings)),
        consuming(settings, database, MailSink(), tracer_provider=providers["notifications"]),
    ):
        yield settings
    await database.dispose()


@pytest_asyncio.fixture
async def cart(committed_session: AsyncSession, catalog_session: AsyncSession, buyer: User) -> None:
    await put_in_cart(committed_session, buyer, await make_variant(catalog_session), 2)


@pytest.fixture
def relay_pass(
    db_engine: AsyncEngine,
    notifications: NotificationsSettings,
    providers: dict[str, tracing.TracerProvider],
) -> Callable[[], Awaitable[int]]:
    """One pass of orders' relay, as `python -m orders.worker` makes it: after the request,
    outside any span; returns how many events it published."""

    async def relay() -> int:
        async with await connect_robust(notifications.rabbitmq_url) as connection:
            exchange = await open_publisher(connection, notifications.events_exchange)
            async with async_sessionmaker(db_engine).begin() as session:
                tracer = tracing.get_tracer("relay", providers["orders"])
                return await publish_pending(session, exchange, OutboxEvent, tracer=tracer)

    return relay


def service(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


@pytest.mark.usefixtures("cart")
async def test_a_checkout_is_one_trace_across_orders_catalog_and_notifications(
    committing_client: AsyncClient,
    buyer_auth: dict[str, str],
    relay_pass: Callable[[], Awaitable[int]],
    exporter: InMemorySpanExporter,
) -> None:
    answer = await committing_client.post("/orders", json=CHECKOUT, headers=buyer_auth)
    assert answer.status_code == 201, answer.text
    assert await relay_pass() == 1

    async def handled() -> bool:
        # The consumer's span ends last: after the email, the commit and the ack.
        return any(span.kind is SpanKind.CONSUMER for span in exporter.get_finished_spans())

    await eventually(handled, what="notifications' span for the event")

    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    [checkout] = [span for span in spans if span.name == "POST /orders"]
    assert {span.context.trace_id for span in spans} == {checkout.context.trace_id}
    assert {service(span) for span in spans} == set(SERVICES)
    assert checkout.parent is None
    assert service(checkout) == "orders"
    # The catalog's request spans are children of orders' client spans, over the network.
    reservation_calls = [
        span for span in spans if service(span) == "catalog" and span.kind is SpanKind.SERVER
    ]
    assert sorted(span.name for span in reservation_calls) == [
        "POST /reservations/{key}/confirm",
        "PUT /reservations/{key}",
    ]
    for call in reservation_calls:
        assert call.parent is not None
        assert call.parent.is_remote
        caller = by_id[call.parent.span_id]
        assert (service(caller), caller.kind) == ("orders", SpanKind.CLIENT)
        assert parent_id(caller) == checkout.context.span_id
    # The relay's publish is a child of the checkout that wrote the event, ...
    [publish] = [span for span in spans if span.kind is SpanKind.PRODUCER]
    assert (publish.name, service(publish)) == ("order.placed publish", "orders")
    assert parent_id(publish) == checkout.context.span_id
    # ... and notifications handles it in a child of the publish, and emails within that.
    [process] = [span for span in spans if span.kind is SpanKind.CONSUMER]
    assert (process.name, service(process)) == ("order.placed process", "notifications")
    assert parent_id(process) == publish.context.span_id
    [email] = [span for span in spans if span.name == "email send"]
    assert parent_id(email) == process.context.span_id
