"""The app factory: accounts, profiles and the social graph, posts, likes and comments, and
home timelines. The fan-out and the outbox relay run apart (`python -m social.worker`)."""

from fastapi import FastAPI

from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database
from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.resources import AppResources
from social.config import Settings, get_settings
from social.graph.router import router as graph_router
from social.posts.router import router as posts_router
from social.timelines.router import router as timelines_router
from social.timelines.store import TimelineStore
from social.users.router import router as users_router

DESCRIPTION = """
A social network. Sign up with `POST /api/users`, sign in with `POST /api/users/login` and
send `Authorization: Bearer <token>`. Follow, block and mute others at
`/api/profiles/{username}/...`; write posts, like and comment on them at `/api/posts`; read
your home timeline at `/api/timeline`: your posts and those of the people you follow,
newest first. A post reaches followers' timelines a moment after it is written (the worker
fans it out); every list pages with a cursor.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database.from_settings(settings)
    resources = AppResources(database, redis_url=settings.redis_url)
    app = create_base_app(
        settings,
        title="Social",
        description=DESCRIPTION,
        routers=[users_router, graph_router, posts_router, timelines_router],
        resources=resources,
    )
    app.state.token_codec = settings.token_codec()
    app.state.timeline_store = timeline_store(settings, resources)
    app.state.rate_limiter = RateLimiter(
        resources.redis, prefix="social:ratelimit", breaker=resources.redis_breaker
    )
    return app


def timeline_store(settings: Settings, resources: AppResources) -> TimelineStore:
    return TimelineStore(
        resources.redis,
        length=settings.timeline_length,
        ttl_seconds=settings.timeline_ttl_seconds,
    )
