"""RED metrics for every gRPC method: how many calls by status code, and how long they took.

The names follow the Go and Java gRPC Prometheus libraries (`grpc_server_handled_total`,
`grpc_server_handling_seconds`), so their dashboards and alerts apply here too."""

from __future__ import annotations  # grpc's handler types are generic only in the stubs

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import grpc
from grpc import aio
from prometheus_client import Counter, Histogram

HANDLED = Counter(
    "grpc_server_handled",
    "gRPC calls completed on the server, by method and status code",
    ["grpc_method", "grpc_code"],
)
HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds", "Time to handle a gRPC call, by method", ["grpc_method"]
)

Handler = Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]


class MetricsInterceptor(aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method.rsplit("/", 1)[-1]
        return grpc.unary_unary_rpc_method_handler(
            _measured(method, cast(Handler, handler.unary_unary)),  # an aio server's are async
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _measured(method: str, behaviour: Handler) -> Handler:
    async def measured(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
        started = time.perf_counter()
        code = grpc.StatusCode.UNKNOWN
        try:
            response = await behaviour(request, context)
            code = context.code() or grpc.StatusCode.OK
            return response
        except aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except asyncio.CancelledError:  # grpc.aio cancels the call: deadline, or client gone
            # None: the call has no deadline, so its caller went away, not its time.
            remaining = context.time_remaining()
            expired = remaining is not None and remaining <= 0
            code = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
            raise
        finally:
            HANDLED.labels(method, code.name).inc()
            HANDLING_SECONDS.labels(method).observe(time.perf_counter() - started)

    return measured
