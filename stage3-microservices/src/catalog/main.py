"""The app factory: wires settings, PostgreSQL, Redis, the cache, the image storage, and the
public keys that verify the tokens the orders service signs."""

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from catalog.catalog.admin_router import PRODUCT_IMAGES_PATH
from catalog.catalog.admin_router import router as catalog_admin_router
from catalog.catalog.cache import CatalogCache
from catalog.catalog.router import router as catalog_router
from catalog.config import Settings, get_settings
from catalog.reservations.router import router as reservations_router
from roadmap_shared import tracing
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.cache import Cache
from roadmap_shared.database import Database
from roadmap_shared.resources import AppResources
from roadmap_shared.security.public_keys import JwksVerifier
from roadmap_shared.storage.factory import build_storage

# Room for the multipart envelope (boundaries, part headers, form fields) around the image.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

DESCRIPTION = """
The catalog service of the shop: a catalogue with variants and stock, and reservations
that hold stock for a checkout in the orders service. Money is in minor units (`1999` =
19.99). Tokens are signed by the orders service; this service verifies them with the
public keys orders publishes, and cannot sign any.
"""


SERVICE_NAME = "catalog"


def create_app(
    settings: Settings | None = None,
    *,
    jwks_http: httpx.AsyncClient | None = None,
    tracer_provider: tracing.TracerProvider | None = None,
) -> FastAPI:
    """`jwks_http` is the client that fetches the orders service's public keys (tests pass
    one that reaches a signer of theirs); by default, a client of its own.
    `tracer_provider`: where the spans go; by default, the collector that
    `OTEL_EXPORTER_OTLP_ENDPOINT` names, or nowhere (tracing off) when it is unset."""
    settings = settings or get_settings()
    tracer_provider = tracer_provider or tracing.tracer_provider_from_settings(SERVICE_NAME)
    resources = AppResources(Database.from_settings(settings), redis_url=settings.redis_url)
    storage = build_storage(settings)
    resources.close_at_shutdown(storage.close)
    if jwks_http is None:
        jwks_http = httpx.AsyncClient()
        resources.close_at_shutdown(jwks_http.aclose)
        tracing.instrument_client(jwks_http, tracer_provider)
    app = create_base_app(
        settings,
        title="Catalog",
        description=DESCRIPTION,
        routers=[catalog_router, catalog_admin_router, reservations_router],
        resources=resources,
        body_limits_by_path_prefix={
            PRODUCT_IMAGES_PATH: settings.max_image_bytes + MULTIPART_OVERHEAD_BYTES
        },
        tracer_provider=tracer_provider,
    )
    app.state.token_verifier = JwksVerifier(
        jwks_url=settings.jwks_url,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        http=jwks_http,
        min_refetch_seconds=settings.jwks_min_refetch_seconds,
        timeout_seconds=settings.jwks_timeout_seconds,
    )
    app.state.storage = storage
    cache = (
        Cache(resources.redis, namespace=settings.cache_namespace, breaker=resources.redis_breaker)
        if settings.cache_ttl_seconds
        else None
    )
    app.state.catalog_cache = CatalogCache(cache, ttl_seconds=settings.cache_ttl_seconds)
    if settings.storage_backend == "local":
        # Uploaded images, served by this app from the storage directory. (Behind a CDN,
        # `media_url` points there and this route goes unused.) A bucket serves its own.
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")
    return app
