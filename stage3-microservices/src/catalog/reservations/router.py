"""Reservations, for the orders service only (a service token): `PUT /reservations/{key}`
holds stock, `POST .../confirm` makes it final, `POST .../release` gives it back."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from catalog.dependencies import CatalogCacheDep, SessionDep, SettingsDep, get_service
from catalog.reservations import service
from catalog.reservations.schemas import (
    ReservationKey,
    ReservationPublic,
    ReservationRequest,
    reservation_public,
)
from roadmap_shared.database import utcnow
from roadmap_shared.errors import problem_responses

router = APIRouter(
    prefix="/reservations",
    tags=["reservations"],
    dependencies=[Depends(get_service)],
    responses=problem_responses(401, 404),
)

KeyPath = Annotated[
    ReservationKey, Path(description="Chosen by the caller; orders derives it from the order id")
]


@router.put(
    "/{key}",
    summary="Hold stock for a checkout (idempotent: the same key and lines, the same reservation)",
    responses={
        200: {"description": "This key already holds these lines"},
        201: {"description": "Stock reserved"},
        **problem_responses(409, 422),
    },
    status_code=status.HTTP_201_CREATED,
)
async def reserve(
    *,
    key: KeyPath,
    body: ReservationRequest,
    session: SessionDep,
    cache: CatalogCacheDep,
    settings: SettingsDep,
    response: Response,
) -> ReservationPublic:
    reservation, made = await service.reserve(
        session,
        cache,
        key,
        body,
        ttl=timedelta(seconds=settings.reservation_ttl_seconds),
        now=utcnow(),
    )
    if not made:
        response.status_code = status.HTTP_200_OK
    return reservation_public(reservation)


@router.get("/{key}", summary="A reservation and its status")
async def get_reservation(key: KeyPath, session: SessionDep) -> ReservationPublic:
    return reservation_public(await service.get(session, key))


@router.post(
    "/{key}/confirm",
    summary="Make the reserved stock final (idempotent)",
    responses=problem_responses(409),
)
async def confirm(
    key: KeyPath, session: SessionDep, cache: CatalogCacheDep, settings: SettingsDep
) -> ReservationPublic:
    confirmed = await service.confirm(
        session, cache, key, now=utcnow(), low_stock_threshold=settings.low_stock_threshold
    )
    return reservation_public(confirmed)


@router.post(
    "/{key}/release",
    summary="Give the reserved stock back (idempotent; refused once confirmed)",
    responses=problem_responses(409),
)
async def release(key: KeyPath, session: SessionDep, cache: CatalogCacheDep) -> ReservationPublic:
    return reservation_public(await service.release(session, cache, key))


@router.post(
    "/{key}/cancel",
    summary="Give a confirmed reservation's stock back: its order was cancelled (idempotent)",
    responses=problem_responses(404, 409),
)
async def cancel(key: KeyPath, session: SessionDep, cache: CatalogCacheDep) -> ReservationPublic:
    return reservation_public(await service.cancel(session, cache, key))
