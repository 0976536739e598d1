from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, status

from rides.dependencies import (
    CurrentDriver,
    CurrentRider,
    CurrentUser,
    GeoIndexDep,
    OffersDep,
    RedisDep,
    SessionDep,
    SettingsDep,
    TripRequestsDep,
)
from rides.models import TripStatus
from rides.trips import history, pricing, service, updates
from rides.trips.schemas import CancelRequest, Quote, Transition, TripPublic, TripRequest
from roadmap_shared.after_commit import after_commit
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import problem_responses

router = APIRouter(prefix="/trips", tags=["trips"], dependencies=[NO_STORE])

TripId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post(
    "/quote",
    summary="Estimate a trip's distance, duration and fare",
    responses=problem_responses(401, 403),
)
async def quote(
    body: TripRequest, _: CurrentRider, settings: SettingsDep, redis: RedisDep, geo: GeoIndexDep
) -> Quote:
    estimate = await pricing.estimate(
        settings,
        redis,
        geo,
        (body.pickup.lat, body.pickup.lng),
        (body.dropoff.lat, body.dropoff.lng),
    )
    return Quote(**estimate.__dict__)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Request a trip; a driver is sought at once",
    responses=problem_responses(401, 403, 409),
)
async def request_trip(
    *,
    body: TripRequest,
    rider: CurrentRider,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    geo: GeoIndexDep,
    queue: TripRequestsDep,
) -> TripPublic:
    pickup, dropoff = (body.pickup.lat, body.pickup.lng), (body.dropoff.lat, body.dropoff.lng)
    estimate = await pricing.estimate(settings, redis, geo, pickup, dropoff)
    trip = await service.request_trip(
        session, rider, pickup=pickup, dropoff=dropoff, estimate=estimate
    )

    # Queued once the trip is committed: a dispatcher faster than our commit would
    # otherwise read a trip that does not exist yet.
    async def dispatch() -> None:
        await queue.publish(trip.id)
        await updates.publish_state(redis, trip)
        await pricing.record_demand(redis, *pickup)

    after_commit(session, dispatch)
    return TripPublic.of(trip)


# `:int`: only digits match, so `/trips/quote` is the quote route's alone (its `405` then
# names POST as the one method allowed, not also this GET).
@router.get(
    "/{trip_id:int}",
    summary="A trip, to its rider or its driver",
    responses=problem_responses(401, 404),
)
async def get_trip(trip_id: TripId, user: CurrentUser, session: SessionDep) -> TripPublic:
    return TripPublic.of(await service.visible_trip(session, trip_id, user))


@router.post(
    "/{trip_id}/cancel",
    summary="Cancel a trip (its rider, or its driver before pickup)",
    responses=problem_responses(401, 404, 409),
)
async def cancel_trip(
    *,
    trip_id: TripId,
    body: CancelRequest,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    offers: OffersDep,
) -> TripPublic:
    trip = await service.visible_trip(session, trip_id, user)
    cancelled = await service.cancel(session, trip, user, version=body.version, reason=body.reason)
    after_commit(session, partial(updates.publish_state, redis, cancelled))
    # A driver who has the offer of it is told, and free for another at once.
    after_commit(session, partial(offers.withdraw_trip, cancelled.id))
    if cancelled.driver_id is not None:
        after_commit(session, partial(history.ended, redis, cancelled.driver_id, cancelled.id))
    return TripPublic.of(cancelled)


@router.post(
    "/{trip_id}/transitions",
    summary="The driver moves the trip on: arriving, in_progress, completed",
    responses=problem_responses(401, 403, 404, 409),
)
async def advance_trip(
    *,
    trip_id: TripId,
    body: Transition,
    driver: CurrentDriver,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
) -> TripPublic:
    trip = await service.visible_trip(session, trip_id, driver)
    to = TripStatus(body.to)
    pings = []
    if to is TripStatus.COMPLETED and trip.started_at is not None:
        pings = await history.pings_since(redis, trip.id, trip.started_at)
    moved = await service.advance(
        session, settings, trip, driver, to=to, version=body.version, pings=pings
    )
    after_commit(session, partial(updates.publish_state, redis, moved))
    if moved.status is TripStatus.COMPLETED:
        after_commit(session, partial(history.ended, redis, driver.id, moved.id))
    return TripPublic.of(moved)
