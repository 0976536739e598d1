"""Opening a socket: the ticket, and the account's role.

The ticket (from `POST /users/me/socket-ticket`) comes in the first message, or in the
handshake as a subprotocol (`Sec-WebSocket-Protocol: rides.v1, ticket.<ticket>`); never in
the URL, which access logs and proxies keep. Both sockets open the same way; each admits
one role, and a valid ticket of the other role is told so (4403), not taken for a forgery
(4401), so that a client wired to the wrong socket learns why at once."""

import asyncio
import json

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from rides.config import Settings
from rides.models import Role
from rides.sockets import protocol
from rides.users import repository as users
from rides.users.tickets import SOCKET_TICKET_TYPE
from roadmap_shared.database import Database
from roadmap_shared.security.tokens import InvalidToken, TokenCodec, subject_user_id


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


async def _account(websocket: WebSocket, ticket: str) -> tuple[int, Role] | None:
    """The account the ticket names, if it is a valid ticket."""
    codec: TokenCodec = websocket.app.state.token_codec
    database: Database = websocket.app.state.database
    try:
        user_id = subject_user_id(codec.decode(ticket, expected_type=SOCKET_TICKET_TYPE))
    except InvalidToken:
        return None
    async with database.read_sessionmaker() as session:
        user = await users.get(session, user_id)
    return (user.id, user.role) if user is not None else None


async def signed_in(websocket: WebSocket, role: Role) -> int | None:
    """Accepts the socket and reads its ticket; the user's id if the ticket is valid and
    names an account in `role`. Otherwise the socket is closed (4401 or 4403) and None."""
    settings: Settings = websocket.app.state.settings
    ticket = _ticket_from_subprotocols(websocket)
    if ticket is not None:
        await websocket.accept(subprotocol=protocol.SUBPROTOCOL)
    else:
        await websocket.accept()
        try:
            ticket = await _ticket_from_first_message(websocket, settings)
        except WebSocketDisconnect:
            return None
    account = await _account(websocket, ticket) if ticket else None
    if account is None:
        await websocket.close(protocol.UNAUTHENTICATED, "A valid socket ticket is required")
        return None
    user_id, user_role = account
    if user_role is not role:
        await websocket.close(protocol.FORBIDDEN, f"This socket is for {role.value}s only")
        return None
    return user_id
