"""Prometheus metrics: request counts and latencies per route, at `/metrics`.

Requests are labelled by route template (`/articles/{slug}`), never by raw path, so the
number of time series stays bounded whatever URLs clients send.

Who may read them, by settings (`<PREFIX>_METRICS_TOKEN`):
- with a metrics token set, `/metrics` answers only `Authorization: Bearer <token>` (401
  otherwise), so that Prometheus can scrape it through the public port and nobody else;
- without one, `/metrics` is open in development and test, and absent (404) in
  production: route counts and latencies tell an attacker what is used and what is slow.
"""

import hmac
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roadmap_shared.errors import Unauthorized
from roadmap_shared.security.credentials import credentials_from_header
from roadmap_shared.settings import AppSettings, Environment

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


def metrics_endpoint(token: SecretStr | None) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        if token is not None:
            presented = credentials_from_header(request.headers.get("Authorization"))
            # Compared in constant time: how long a refusal takes says nothing about how
            # much of the token was right.
            if not hmac.compare_digest(presented.encode(), token.get_secret_value().encode()):
                raise Unauthorized("The metrics token is not valid.")
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return metrics


def install_metrics(app: FastAPI, settings: AppSettings) -> None:
    app.add_middleware(MetricsMiddleware)
    if settings.metrics_token is None and settings.environment is Environment.PRODUCTION:
        return  # counted, but not served to the public port; set a metrics token
    app.add_route("/metrics", metrics_endpoint(settings.metrics_token), include_in_schema=False)
