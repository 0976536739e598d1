"""The app factory: wires settings, PostgreSQL, Redis, the cache and the image storage."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.cache import Cache
from roadmap_shared.database import Database
from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.resources import AppResources
from roadmap_shared.storage.factory import build_storage
from shop.accounts.router import router as accounts_router
from shop.cart.router import router as cart_router
from shop.catalog.admin_router import PRODUCT_IMAGES_PATH
from shop.catalog.admin_router import router as catalog_admin_router
from shop.catalog.cache import CatalogCache
from shop.catalog.router import router as catalog_router
from shop.config import Settings, get_settings
from shop.orders.admin_router import router as orders_admin_router
from shop.orders.router import router as orders_router

# Room for the multipart envelope (boundaries, part headers, form fields) around the image.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

DESCRIPTION = """
A shop: a catalogue with variants and stock, carts, and orders whose checkout never
oversells. Money is in minor units (`1999` = 19.99). Sign up at `/auth/register`, get a
token at `/auth/login`, and send it as `Authorization: Bearer <token>`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    resources = AppResources(Database.from_settings(settings), redis_url=settings.redis_url)
    storage = build_storage(settings)
    resources.close_at_shutdown(storage.close)
    app = create_base_app(
        settings,
        title="Shop",
        description=DESCRIPTION,
        routers=[
            accounts_router,
            catalog_router,
            cart_router,
            orders_router,
            catalog_admin_router,
            orders_admin_router,
        ],
        resources=resources,
        body_limits_by_path_prefix={
            PRODUCT_IMAGES_PATH: settings.max_image_bytes + MULTIPART_OVERHEAD_BYTES
        },
    )
    app.state.token_codec = settings.token_codec()
    app.state.rate_limiter = RateLimiter(
        resources.redis,
        prefix=f"{settings.cache_namespace}:ratelimit",
        breaker=resources.redis_breaker,
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
