"""The driver socket's messages: JSON text frames, each with a `type`.

Driver to server: `auth` (first, unless the ticket came in `Sec-WebSocket-Protocol`),
`ping` (a position), `heartbeat`, `availability`, `accept`, `decline`.
Server to driver: `ready`, `offer`, `assigned`, `declined`, `error` (with a `code`).
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from rides.geo.coordinates import Latitude, Longitude


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Auth(Message):
    type: Literal["auth"]
    ticket: str = Field(min_length=1, max_length=2000)


class Ping(Message):
    type: Literal["ping"]
    lat: Latitude
    lng: Longitude


class Heartbeat(Message):
    type: Literal["heartbeat"]


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

# Close codes. 1008 and 1009 are the protocol's own (RFC 6455); 4000-4999 are for
# applications, and these mirror the HTTP statuses they resemble.
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
UNAUTHENTICATED = 4401
FORBIDDEN = 4403
TIMED_OUT = 4408

# The subprotocol a client names to send its ticket in the handshake instead of a first
# message: `Sec-WebSocket-Protocol: rides.v1, ticket.<ticket>`.
SUBPROTOCOL = "rides.v1"
TICKET_PREFIX = "ticket."


def error(code: str, detail: str) -> dict[str, str]:
    return {"type": "error", "code": code, "detail": detail}
