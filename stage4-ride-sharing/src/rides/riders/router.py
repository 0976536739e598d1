"""`/riders/socket`: the rider's WebSocket, opened with a ticket (`rides.sockets.handshake`)."""

from fastapi import APIRouter, WebSocket

from rides.models import Role
from rides.riders.connection import RiderConnection
from rides.sockets.handshake import signed_in

router = APIRouter()


@router.websocket("/riders/socket")
async def rider_socket(websocket: WebSocket) -> None:
    rider_id = await signed_in(websocket, Role.RIDER)
    if rider_id is None:
        return
    state = websocket.app.state
    await RiderConnection(
        websocket,
        rider_id=rider_id,
        settings=state.settings,
        redis=state.redis,
        sessions=state.database.read_sessionmaker,
    ).run()
