"""The app factory every stage uses, so that all of them behave alike at the edges:
request ids and JSON logs, security headers, CORS, a body size limit, problem-details
errors, `/healthz`, `/readyz` and offline `/docs`.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from roadmap_shared.docs import install_offline_docs
from roadmap_shared.errors import (
    PROBLEM_CONTENT_TYPE,
    REQUEST_ID_HEADER,
    install_error_handlers,
    problem_response,
)
from roadmap_shared.logging import configure_logging
from roadmap_shared.metrics import install_metrics
from roadmap_shared.middleware import (
    BodyReadDeadlineMiddleware,
    BodySizeLimitMiddleware,
    HeadAsGetMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from roadmap_shared.settings import AppSettings

# A readiness check raises (or times out) when its dependency cannot serve requests.
ReadinessCheck = Callable[[], Awaitable[object]]
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
    lifespan: Lifespan | None = None,
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
    body_limits_by_path_prefix: dict[str, int] | None = None,
) -> FastAPI:
    configure_logging(settings.log_level)
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_offline_docs(app)
    _install_health_endpoints(app, dict(readiness_checks or {}))
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
    return app


def _install_health_endpoints(app: FastAPI, checks: dict[str, ReadinessCheck]) -> None:
    @app.get("/healthz", tags=["health"], summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: every dependency answers",
        responses={503: {"description": "A dependency is not answering"}},
    )
    async def readyz() -> JSONResponse:
        results = await asyncio.gather(*(_run_check(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        if all(result == "ok" for result in report.values()):
            return JSONResponse({"status": "ready", "checks": report})
        failing = ", ".join(name for name, result in report.items() if result != "ok")
        return problem_response(503, detail=f"Not ready: {failing}", checks=report)


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
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.setdefault("FieldError", _FIELD_ERROR_SCHEMA)
    components.setdefault("Problem", _PROBLEM_SCHEMA)
    problem_content = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "Validation error", "content": problem_content}
            responses.setdefault(
                "default", {"description": "Any other error", "content": problem_content}
            )
    app.openapi_schema = schema
    return schema


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
