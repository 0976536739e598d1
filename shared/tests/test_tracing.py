"""Tracing: off by default and then free, and when on, one trace carried from a request
through the outbox, the relay and RabbitMQ to the consumer's handler."""

import json
import logging

from aio_pika.abc import AbstractRobustConnection
from fastapi import FastAPI, Request, Response
from httpx import ASGITransport, AsyncClient
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from roadmap_shared import tracing
from roadmap_shared.logging import JsonFormatter
from roadmap_shared.messaging import Consumer, Event, Subscription, add_event, publish_pending
from roadmap_shared.messaging.relay import open_publisher
from roadmap_shared.settings import AppSettings, Environment
from roadmap_shared.testing.live_server import live_server
from roadmap_shared.testing.messaging import eventually
from tests.messaging_consumers import record_effect
from tests.messaging_models import OutboxEvent, ProcessedMessage

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
CALLER_SPAN_ID = 0x00F067AA0BA902B7
TRACEPARENT = f"00-{TRACE_ID:032x}-{CALLER_SPAN_ID:016x}-01"


def traced_app(provider: tracing.TracerProvider | None) -> FastAPI:
    app = FastAPI()

    @app.get("/things")
    async def things() -> dict[str, str]:
        return {"traceparent": tracing.inject().get("traceparent", "")}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    tracing.instrument_app(app, provider)
    return app


async def get(app: FastAPI, path: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        answer = await client.get(path, headers=headers)
    body: dict[str, str] = answer.json()
    return body


def by_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind) -> ReadableSpan:
    [span] = [span for span in spans if span.kind is kind]
    return span


def test_tracing_is_off_without_an_endpoint() -> None:
    assert tracing.tracer_provider_from_settings("orders", tracing.TracingSettings()) is None


def test_with_an_endpoint_spans_are_sent_there_over_otlp() -> None:
    """A stand-in for the collector (a third party): it keeps what is posted to it."""
    received: list[ExportTraceServiceRequest] = []
    collector = FastAPI()

    @collector.post("/v1/traces")
    async def traces(request: Request) -> Response:
        received.append(ExportTraceServiceRequest.FromString(await request.body()))
        return Response(status_code=200)

    with live_server(collector, AppSettings(environment=Environment.TEST)) as port:
        settings = tracing.TracingSettings(exporter_otlp_endpoint=f"http://127.0.0.1:{port}/")
        provider = tracing.tracer_provider_from_settings("orders", settings)
        assert provider is not None
        with tracing.get_tracer(__name__, provider).start_as_current_span("checkout"):
            pass
        provider.shutdown()  # flushes the batch, as at the process's exit

    [export] = received
    [resource_spans] = export.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "orders"
    assert [span.name for scope in resource_spans.scope_spans for span in scope.spans] == [
        "checkout"
    ]


async def test_an_app_without_a_provider_is_not_instrumented() -> None:
    app = traced_app(None)
    untouched = FastAPI()

    # The cost of tracing switched off: nothing is added in front of a request.
    assert app.build_middleware_stack.__func__ is untouched.build_middleware_stack.__func__  # type: ignore[attr-defined]
    assert await get(app, "/things", {"traceparent": TRACEPARENT}) == {"traceparent": ""}


async def test_a_request_span_is_a_child_of_the_callers_traceparent() -> None:
    exporter = InMemorySpanExporter()
    app = traced_app(tracing.tracer_provider("api", exporter))

    body = await get(app, "/things", {"traceparent": TRACEPARENT})
    await get(app, "/healthz")

    [server] = exporter.get_finished_spans()  # /healthz is not traced
    assert server.kind is SpanKind.SERVER
    assert server.name == "GET /things"
    assert server.context.trace_id == TRACE_ID
    assert server.parent is not None
    assert server.parent.span_id == CALLER_SPAN_ID
    # Inside the handler the server span is current: what it would pass on is itself.
    assert body["traceparent"] == f"00-{TRACE_ID:032x}-{server.context.span_id:016x}-01"


def test_extract_reads_the_traceparent_and_ignores_what_is_not_text() -> None:
    remote = trace.get_current_span(tracing.extract({"traceparent": TRACEPARENT}))
    assert remote.get_span_context().trace_id == TRACE_ID
    assert remote.get_span_context().is_remote

    for headers in ({}, {"traceparent": TRACEPARENT.encode()}, {"traceparent": "garbage"}):
        assert not trace.get_current_span(tracing.extract(headers)).get_span_context().is_valid


def test_inject_adds_nothing_outside_a_span() -> None:
    assert tracing.inject({"x-other": "1"}) == {"x-other": "1"}


def test_log_records_in_a_span_carry_its_trace_and_span_ids() -> None:
    tracer = tracing.get_tracer(__name__, tracing.tracer_provider("logs", InMemorySpanExporter()))
    record = logging.makeLogRecord({"msg": "hello"})

    outside = json.loads(JsonFormatter().format(record))
    with tracer.start_as_current_span("work") as span:
        inside = json.loads(JsonFormatter().format(record))

    assert "trace_id" not in outside
    context = span.get_span_context()
    assert inside["trace_id"] == f"{context.trace_id:032x}"
    assert inside["span_id"] == f"{context.span_id:016x}"


async def test_an_event_is_handled_in_the_trace_of_the_request_that_wrote_it(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    exporter = InMemorySpanExporter()
    producer = tracing.tracer_provider("producer", exporter)
    handled: list[Event] = []

    async def handle(session: AsyncSession, event: Event) -> None:
        handled.append(event)
        await record_effect(session, event)

    consumer = Consumer(
        subscription,
        {"thing.happened": handle},
        sessions,
        ProcessedMessage,
        tracer_provider=tracing.tracer_provider("consumer", exporter),
    )
    await consumer.start(amqp)
    # The request: the event is written in its span, and the span ends with it.
    with tracing.get_tracer(__name__, producer).start_as_current_span("request") as request:
        async with sessions.begin() as session:
            add_event(session, OutboxEvent, "thing.happened", {"n": 1})
    # The relay, later, outside any span (as in its own process).
    exchange = await open_publisher(amqp, subscription.exchange)
    async with sessions.begin() as session:
        tracer = tracing.get_tracer("relay", producer)
        assert await publish_pending(session, exchange, OutboxEvent, tracer=tracer) == 1

    async def handled_once() -> bool:
        return len(exporter.get_finished_spans()) == 3

    await eventually(handled_once, what="the consumer's span")
    await consumer.stop()

    spans = exporter.get_finished_spans()
    publish = by_kind(spans, SpanKind.PRODUCER)
    process = by_kind(spans, SpanKind.CONSUMER)
    trace_id = request.get_span_context().trace_id
    assert {span.context.trace_id for span in spans} == {trace_id}
    assert publish.name == "thing.happened publish"
    assert publish.parent is not None
    assert publish.parent.span_id == request.get_span_context().span_id
    assert process.name == "thing.happened process"
    assert process.parent is not None
    assert process.parent.span_id == publish.context.span_id
    assert process.resource.attributes["service.name"] == "consumer"
    # The handler's event names its parent: the publish.
    assert f"-{trace_id:032x}-{publish.context.span_id:016x}-" in str(handled[0].traceparent)
