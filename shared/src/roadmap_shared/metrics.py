"""Prometheus metrics: request counts and latencies per route, at `/metrics`.

Requests are labelled by route template (`/articles/{slug}`), never by raw path, so the
number of time series stays bounded whatever URLs clients send. Serve `/metrics` to your
monitoring network only (at the reverse proxy); it is not meant for the public.
"""

import time

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by method, route and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency by method and route", ["method", "route"]
)
UNMATCHED = "<unmatched>"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            # The router stores the matched route in the scope on its way in.
            route: BaseRoute | None = scope.get("route")
            template = getattr(route, "path", UNMATCHED)
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)


async def metrics(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> None:
    app.add_middleware(MetricsMiddleware)
    app.add_route("/metrics", metrics, include_in_schema=False)
