"""The app factory: accounts, trips (quote, request, cancel, the driver's moves), the
driver socket and the rider socket. The dispatcher runs apart (`python -m rides.worker`)."""

from fastapi import FastAPI

from rides.config import Settings, get_settings
from rides.dispatch.offers import Offers
from rides.drivers.router import router as drivers_router
from rides.geo.index import GeoIndex
from rides.riders.router import router as riders_router
from rides.streams import TripRequests
from rides.trips.router import router as trips_router
from rides.users.router import router as users_router
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database
from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.resources import AppResources

DESCRIPTION = """
Ride sharing. Riders ask for a quote and request a trip; drivers stream their position over
the WebSocket `/drivers/socket` and receive offers there; a dispatcher offers each trip to
the nearest available driver, one at a time. A rider follows the trip over the WebSocket
`/riders/socket`: its state at every change, and the driver's position. Sign up as a rider
or a driver with `POST /users`, sign in with `POST /users/login` and send
`Authorization: Bearer <token>`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database.from_settings(settings)
    resources = AppResources(database, redis_url=settings.redis_url)
    app = create_base_app(
        settings,
        title="Rides",
        description=DESCRIPTION,
        routers=[users_router, trips_router, drivers_router, riders_router],
        resources=resources,
    )
    redis = resources.redis
    app.state.token_codec = settings.token_codec()
    app.state.redis = redis
    app.state.geo_index = geo_index(settings, resources)
    app.state.offers = Offers(redis, offer_seconds=settings.offer_seconds)
    app.state.trip_requests = TripRequests(redis)
    app.state.rate_limiter = RateLimiter(
        redis, prefix="rides:ratelimit", breaker=resources.redis_breaker
    )
    return app


def geo_index(settings: Settings, resources: AppResources) -> GeoIndex:
    return GeoIndex(
        resources.redis,
        city=settings.city,
        stale_after_seconds=settings.heartbeat_timeout_seconds,
    )
