"""Distributed tracing with OpenTelemetry: one trace follows a request across services.

A trace is a tree of spans (timed operations) sharing one trace id. Within a process the
current span lives in a context variable; between processes it travels as the W3C
`traceparent` header (`00-<trace id>-<parent span id>-<flags>`), with the optional
`tracestate` beside it for vendors' data. Whoever sends a request or a message *injects*
the current span into its headers; whoever receives it *extracts* the context and starts
its own span as a child. HTTP is instrumented by OpenTelemetry's FastAPI and httpx
packages; messages are carried by hand (`roadmap_shared.messaging`), with `inject` and
`extract` below, so the mechanism can be read in a few lines.

Tracing is off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the standard variable, shared
by every service of a deployment: they all send to one collector). Off, nothing is
instrumented: a request pays only a context lookup per log line (whether a span is
current), and `get_tracer` hands out a tracer whose spans record nothing but still pass
a parent's context on.

Each component takes an optional `TracerProvider` (the SDK's: it names the service, keeps
the spans and hands them to an exporter). Tests pass one with an in-memory exporter;
several services in one test process each get their own, so each span says which
service made it.
"""

from collections.abc import Mapping

from fastapi import FastAPI
from httpx import AsyncClient
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "Tracer",
    "TracerProvider",
    "TracingSettings",
    "extract",
    "get_tracer",
    "inject",
    "instrument_app",
    "instrument_client",
    "tracer_provider",
    "tracer_provider_from_settings",
]

# Probes, scrapes and docs would fill the traces with noise; they are never traced.
UNTRACED_PATHS = "/healthz,/readyz,/metrics,/docs,/openapi.json"

# The W3C Trace Context propagator, named rather than taken from OpenTelemetry's global
# one (which also carries baggage): what crosses a process boundary is exactly
# `traceparent` and `tracestate`.
_propagator = TraceContextTextMapPropagator()


class TracingSettings(BaseSettings):
    """OpenTelemetry's own variables, so a collector's address is set once for all
    services (`OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318`)."""

    model_config = SettingsConfigDict(
        env_prefix="OTEL_", env_file=".env", extra="ignore", frozen=True
    )

    # Empty or unset: tracing is off.
    exporter_otlp_endpoint: str = ""


def tracer_provider_from_settings(
    service_name: str, settings: TracingSettings | None = None
) -> TracerProvider | None:
    """The provider for `service_name`'s spans, sending them to the OTLP endpoint of
    `settings` (by default, of the environment); None when tracing is off.

    Spans go in batches, from a background thread, so a slow collector never slows a
    request (a full queue drops spans instead). The batch left at exit is flushed then."""
    endpoint = (settings or TracingSettings()).exporter_otlp_endpoint.rstrip("/")
    if not endpoint:
        return None
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def tracer_provider(service_name: str, exporter: SpanExporter) -> TracerProvider:
    """A provider handing each span to `exporter` as it ends (a test's in-memory one)."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def get_tracer(name: str, provider: TracerProvider | None = None) -> Tracer:
    """A tracer of `provider`; without one, of OpenTelemetry's global provider, which is a
    no-op unless something installed one. Name it after the module (`__name__`)."""
    return trace.get_tracer(name, tracer_provider=provider)


def instrument_app(app: FastAPI, provider: TracerProvider | None) -> None:
    """A server span for each request, a child of the caller's `traceparent` if it sent
    one. Without a provider (tracing off) the app is left as it is."""
    if provider is not None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=provider,
            excluded_urls=UNTRACED_PATHS,
            # A span per ASGI message (each chunk of the body) is detail no one reads.
            exclude_spans=["receive", "send"],
        )


def instrument_client(client: AsyncClient, provider: TracerProvider | None) -> None:
    """A client span for each request `client` sends, injected as its `traceparent`."""
    if provider is not None:
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)


def inject(carrier: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `carrier` (of nothing by default) with the current span's `traceparent`
    and `tracestate` added; `carrier` itself is left as it was. Outside a span, nothing
    is added."""
    headers = dict(carrier or {})
    _propagator.inject(headers)
    return headers


def extract(carrier: Mapping[str, object]) -> Context:
    """The context to start a child span in (`start_as_current_span(..., context=...)`):
    the remote parent named by `carrier`'s `traceparent`, or an empty context, which makes
    the next span the root of a new trace. Headers of other types are ignored."""
    return _propagator.extract(carrier, getter=_StringHeaders())


class _StringHeaders(Getter[Mapping[str, object]]):
    """Reads text headers from a mapping whose values may be anything (AMQP headers hold
    numbers, bytes and tables too); what is not a string is treated as absent."""

    def get(self, carrier: Mapping[str, object], key: str) -> list[str] | None:
        value = carrier.get(key)
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, object]) -> list[str]:
        return list(carrier)
