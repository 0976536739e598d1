"""The driver socket's messages (the frames and close codes both sockets share are in
`rides.sockets.protocol`).

Driver to server: `auth` (first, unless the ticket came in `Sec-WebSocket-Protocol`),
`ping` (a position), `heartbeat`, `availability`, `accept`, `decline`.
Server to driver: `ready`, `offer`, `assigned`, `declined`, `error` (with a `code`).
"""

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from rides.geo.coordinates import Latitude, Longitude
from rides.sockets.protocol import Auth, Heartbeat, Message

__all__ = ["Accept", "Auth", "Availability", "Decline", "Heartbeat", "Ping", "driver_message"]


class Ping(Message):
    type: Literal["ping"]
    lat: Latitude
    lng: Longitude


class Availability(Message):
    type: Literal["availability"]
    available: bool


class Accept(Message):
    type: Literal["accept"]
    offer_id: str = Field(min_length=1, max_length=64)


class Decline(Message):
    type: Literal["decline"]
    offer_id: str = Field(min_length=1, max_length=64)


DriverMessage = Annotated[
    Auth | Ping | Heartbeat | Availability | Accept | Decline, Field(discriminator="type")
]
driver_message = TypeAdapter[DriverMessage](DriverMessage)
