"""The app factory every stage uses, so that all of them behave alike at the edges:
request ids and JSON logs, security headers, CORS, a body size limit, problem-details
errors, `/healthz`, `/readyz` and offline `/docs`.
"""

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from roadmap_shared.docs import install_offline_docs
from roadmap_shared.errors import (
    PROBLEM_CONTENT_TYPE,
    REQUEST_ID_HEADER,
    install_error_handlers,
    problem_response,
    status_title,
)
from roadmap_shared.fields import MAX_INT64, MIN_INT64
from roadmap_shared.logging import configure_logging
from roadmap_shared.metrics import install_metrics
from roadmap_shared.middleware import (
    BodyReadDeadlineMiddleware,
    BodySizeLimitMiddleware,
    HeadAsGetMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from roadmap_shared.outages import install_outage_handlers
from roadmap_shared.resources import AppResources, ReadinessCheck
from roadmap_shared.settings import AppSettings
from roadmap_shared.tracing import TracerProvider, instrument_app

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
READINESS_TIMEOUT_SECONDS = 2.0

# Request headers a browser may send cross-origin beyond the CORS-safelisted ones.
ALLOWED_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    REQUEST_ID_HEADER,
]
EXPOSED_HEADERS = [
    REQUEST_ID_HEADER,
    "ETag",
    "Location",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
]


def create_app(
    settings: AppSettings,
    *,
    title: str,
    description: str = "",
    version: str = "0.1.0",
    routers: Sequence[APIRouter] = (),
    resources: AppResources | None = None,
    lifespan: Lifespan | None = None,
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
    optional_readiness_checks: Mapping[str, ReadinessCheck] | None = None,
    body_limits_by_path_prefix: dict[str, int] | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The app, with `settings` in `app.state.settings`. Given `resources`, it also keeps
    their database in `app.state.database`, closes them at shutdown and checks them on
    `/readyz`; `lifespan` and `readiness_checks` are for what a stage opens itself.
    Given a `tracer_provider` (`roadmap_shared.tracing`), each request gets a span."""
    if resources is not None and lifespan is not None:
        raise ValueError("pass a lifespan or resources, not both: resources bring their own")
    configure_logging(settings.log_level)
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=resources.lifespan if resources is not None else lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    required = dict(readiness_checks or {})
    optional = dict(optional_readiness_checks or {})
    if resources is not None:
        app.state.database = resources.database
        required = resources.readiness_checks() | required
        optional = resources.optional_readiness_checks() | optional
    install_error_handlers(app)
    install_outage_handlers(app)
    install_offline_docs(app)
    _install_health_endpoints(app, required, optional)
    for router in routers:
        app.include_router(router)

    # Added innermost first. A request meets the security headers, then RequestContext (id,
    # access log, 500s), then metrics, then the body limits (size, then time), then CORS,
    # then HEAD-as-GET.
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=ALLOWED_REQUEST_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    app.add_middleware(
        BodyReadDeadlineMiddleware, timeout_seconds=settings.body_read_timeout_seconds
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        limits_by_path_prefix=body_limits_by_path_prefix,
    )
    install_metrics(app, settings)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.openapi = lambda: _openapi_with_problem_details(app)  # type: ignore[method-assign]
    # Outside every middleware above, so the access log and error handling run in the span.
    instrument_app(app, tracer_provider)
    return app


def operation_id(route: APIRoute) -> str:
    """`tasks-create_task`, not FastAPI's `create_task_tasks_post`: ids a generated client
    turns into readable method names (the full-stack FastAPI template's scheme)."""
    if not route.tags:
        return route.name
    tag = re.sub(r"[^a-z0-9]+", "_", str(route.tags[0]).lower()).strip("_")
    return f"{tag}-{route.name}"


def _install_health_endpoints(
    app: FastAPI, required: dict[str, ReadinessCheck], optional: dict[str, ReadinessCheck]
) -> None:
    """`/readyz` fails (503) only when a required dependency does not answer. An optional
    one (a cache: the service answers without it, only slower) makes it report "degraded"
    with 200: failing would take every replica out of rotation at once, over a cache."""
    checks = {**required, **optional}

    @app.get("/healthz", tags=["health"], summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: every required dependency answers",
        responses={503: {"description": "A required dependency is not answering"}},
    )
    async def readyz() -> JSONResponse:
        results = await asyncio.gather(*(_run_check(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        failing = [name for name, result in report.items() if result != "ok"]
        if any(name in required for name in failing):
            return problem_response(503, detail=f"Not ready: {', '.join(failing)}", checks=report)
        return JSONResponse({"status": "degraded" if failing else "ready", "checks": report})


async def _run_check(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), READINESS_TIMEOUT_SECONDS)
    except Exception as exc:  # a readiness probe reports failures, it never raises them
        return f"failed: {type(exc).__name__}"
    return "ok"


def _openapi_with_problem_details(app: FastAPI) -> dict[str, Any]:
    """FastAPI documents 422 with its own `HTTPValidationError`; we document our problem body."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    _restore_integer_bounds(schema)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.setdefault("FieldError", _FIELD_ERROR_SCHEMA)
    components.setdefault("Problem", _PROBLEM_SCHEMA)
    problem_content = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _PROBLEM_REF}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "Validation error", "content": problem_content}
            _one_problem_schema_per_status(responses, components)
            responses.setdefault(
                "default", {"description": "Any other error", "content": problem_content}
            )
    app.openapi_schema = schema
    return schema


_PROBLEM_REF = "#/components/schemas/Problem"


def _one_problem_schema_per_status(responses: dict[str, Any], components: dict[str, Any]) -> None:
    """Each error status an operation lists gets its own schema (`NotFoundProblem`: a
    Problem whose `status` is 404), so the document says which error a client gets, and
    a checker can tell a body that names another status from a right one."""
    for code, response in responses.items():
        content = response.get("content", {})
        if not (code.isdigit() and int(code) >= 400) or content.get(PROBLEM_CONTENT_TYPE) != {
            "schema": {"$ref": _PROBLEM_REF}
        }:
            continue
        title = status_title(int(code))
        name = re.sub(r"[^A-Za-z]", "", title) + "Problem"
        components.setdefault(
            name,
            {
                "title": name,
                "description": f"{code} {title}: problem details.",
                "allOf": [{"$ref": _PROBLEM_REF}],
                "properties": {"status": {"const": int(code)}},
            },
        )
        # A new object: the same content object may be shared with other responses.
        response["content"] = {
            **content,
            PROBLEM_CONTENT_TYPE: {"schema": {"$ref": f"#/components/schemas/{name}"}},
        }


# The largest integer a float (a double) holds exactly; past it, floats skip integers.
_LARGEST_EXACT_FLOAT_INTEGER = 2**53


def _restore_integer_bounds(node: Any) -> None:
    """Gives every `integer` schema the exact bounds its type declares.

    FastAPI passes the document through models whose `minimum` and `maximum` are floats,
    and a float cannot hold 2**63 - 1: a `bigint` id's maximum came out as 2**63, one past
    what the server accepts, so a client (or a fuzzer) trusting the document was refused.
    Below 2**53 a float is exact; above it, the only bounds any type here declares are
    the ends of int64 (`roadmap_shared.fields`), which is where such a float is put back.
    """
    if isinstance(node, list):
        for item in node:
            _restore_integer_bounds(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer":
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if isinstance(node.get(key), float):
                node[key] = _exact_bound(node[key])
    for value in node.values():
        _restore_integer_bounds(value)


def _exact_bound(bound: float) -> int:
    if abs(bound) < _LARGEST_EXACT_FLOAT_INTEGER:
        return int(bound)
    exact = min(max(int(bound), MIN_INT64), MAX_INT64)
    if exact not in (MIN_INT64, MAX_INT64):
        raise ValueError(f"{bound} is not exact as a float; bound integers to int64 or 2**53")
    return exact


_FIELD_ERROR_SCHEMA = {
    "title": "FieldError",
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
}
_PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details, the body of every error response.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "default": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
    },
}
