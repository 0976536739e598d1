"""`/drivers/socket`: the driver's WebSocket, opened with a ticket (`rides.sockets.handshake`)."""

from fastapi import APIRouter, WebSocket

from rides.drivers.connection import DriverConnection
from rides.models import Role
from rides.sockets.handshake import signed_in

router = APIRouter()


@router.websocket("/drivers/socket")
async def driver_socket(websocket: WebSocket) -> None:
    driver_id = await signed_in(websocket, Role.DRIVER)
    if driver_id is None:
        return
    state = websocket.app.state
    await DriverConnection(
        websocket,
        driver_id=driver_id,
        settings=state.settings,
        redis=state.redis,
        geo=state.geo_index,
        offers=state.offers,
        sessions=state.database.sessionmaker,
    ).run()
