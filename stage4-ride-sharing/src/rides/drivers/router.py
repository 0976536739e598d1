"""`/drivers/socket`: the driver's WebSocket.

The ticket (from `POST /users/me/socket-ticket`) comes in the first message, or in the
handshake as a subprotocol (`Sec-WebSocket-Protocol: rides.v1, ticket.<ticket>`); never in
the URL, which access logs and proxies keep."""

import asyncio
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from rides.config import Settings
from rides.drivers import protocol
from rides.drivers.connection import DriverConnection
from rides.models import Role
from rides.users import repository as users
from rides.users.tickets import SOCKET_TICKET_TYPE
from roadmap_shared.database import Database
from roadmap_shared.security.tokens import InvalidToken, TokenCodec, subject_user_id

router = APIRouter()


def _ticket_from_subprotocols(websocket: WebSocket) -> str | None:
    offered: list[str] = websocket.scope.get("subprotocols", [])
    if protocol.SUBPROTOCOL not in offered:
        return None
    for name in offered:
        if name.startswith(protocol.TICKET_PREFIX):
            return name.removeprefix(protocol.TICKET_PREFIX)
    return None


async def _ticket_from_first_message(websocket: WebSocket, settings: Settings) -> str | None:
    try:
        text = await asyncio.wait_for(websocket.receive_text(), settings.socket_auth_seconds)
        return protocol.Auth.model_validate_json(text).ticket
    except (TimeoutError, ValidationError, KeyError, json.JSONDecodeError):
        # KeyError: a binary frame, which has no "text".
        return None


async def _driver_id(websocket: WebSocket, ticket: str) -> int | None:
    """The driver the ticket names, if it is a valid ticket of a driver account."""
    codec: TokenCodec = websocket.app.state.token_codec
    database: Database = websocket.app.state.database
    try:
        user_id = subject_user_id(codec.decode(ticket, expected_type=SOCKET_TICKET_TYPE))
    except InvalidToken:
        return None
    async with database.read_sessionmaker() as session:
        user = await users.get(session, user_id)
    return user.id if user is not None and user.role is Role.DRIVER else None


@router.websocket("/drivers/socket")
async def driver_socket(websocket: WebSocket) -> None:
    settings: Settings = websocket.app.state.settings
    ticket = _ticket_from_subprotocols(websocket)
    if ticket is not None:
        await websocket.accept(subprotocol=protocol.SUBPROTOCOL)
    else:
        await websocket.accept()
        try:
            ticket = await _ticket_from_first_message(websocket, settings)
        except WebSocketDisconnect:
            return
    driver_id = await _driver_id(websocket, ticket) if ticket else None
    if driver_id is None:
        await websocket.close(protocol.UNAUTHENTICATED, "A valid driver ticket is required")
        return
    state = websocket.app.state
    await DriverConnection(
        websocket,
        driver_id=driver_id,
        settings=settings,
        redis=state.redis,
        geo=state.geo_index,
        offers=state.offers,
        sessions=state.database.sessionmaker,
    ).run()
