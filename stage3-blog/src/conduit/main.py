"""The app factory: the RealWorld API under /api, moderation under /admin."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from redis.asyncio import Redis

from conduit.admin.router import router as admin_router
from conduit.articles.cache import ContentCache
from conduit.articles.router import router as articles_router
from conduit.comments.router import router as comments_router
from conduit.config import Settings, get_settings
from conduit.errors import document_spec_errors, install_spec_error_handlers
from conduit.profiles.router import router as profiles_router
from conduit.tags.router import router as tags_router
from conduit.users.router import router as users_router
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.cache import Cache
from roadmap_shared.circuit import CircuitBreaker
from roadmap_shared.database import Database
from roadmap_shared.ratelimit import RateLimiter

DESCRIPTION = """
The [RealWorld](https://github.com/gothinkster/realworld) ("Conduit") API: any RealWorld front end
works against `/api` unchanged. Send `Authorization: Token <jwt>` with the token from a user
response. Beyond the spec: roles, suspensions (`/admin`), caching, rate limits and search
(`GET /api/articles?q=`).
"""
# A Redis that does not answer must not hold requests for long: the cache and the rate
# limiter fall back (to PostgreSQL, to counting in this process) when a command fails, and
# their circuit breaker skips Redis for a while once it has failed a few times.
REDIS_TIMEOUT_SECONDS = 0.5


def api_router() -> APIRouter:
    api = APIRouter(prefix="/api")
    for router in (users_router, profiles_router, articles_router, comments_router, tags_router):
        api.include_router(router)
    return api


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database.from_settings(settings)
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()
        await database.dispose()

    app = create_base_app(
        settings,
        title="Conduit",
        description=DESCRIPTION,
        routers=[api_router(), admin_router],
        lifespan=lifespan,
        readiness_checks={"postgres": database.ping},
        optional_readiness_checks={"redis": redis.ping},
    )
    install_spec_error_handlers(app)
    document_spec_errors(app)
    app.state.settings = settings
    app.state.database = database
    app.state.token_codec = settings.token_codec()
    # One breaker for the one Redis: once the limiter finds it hung, the cache skips it too.
    redis_breaker = CircuitBreaker("redis")
    app.state.rate_limiter = RateLimiter(redis, prefix="conduit:ratelimit", breaker=redis_breaker)
    app.state.content_cache = ContentCache(
        Cache(redis, namespace="conduit:cache", breaker=redis_breaker),
        list_ttl_seconds=settings.article_list_cache_seconds,
        tags_ttl_seconds=settings.tags_cache_seconds,
    )
    return app
