"""The rider socket's messages (the frames and close codes both sockets share are in
`rides.sockets.protocol`).

Rider to server: `auth` (first, unless the ticket came in `Sec-WebSocket-Protocol`),
`follow` (a trip of the rider's: its state now, then every change), `heartbeat`.
Server to rider: `ready`, `trip` (the trip's state, with its version), `driver_position`
(the assigned driver's, at each ping until the trip is over), `error` (with a `code`).
"""

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from rides.sockets.protocol import Auth, Heartbeat, Message

__all__ = ["Auth", "Follow", "Heartbeat", "rider_message"]


class Follow(Message):
    type: Literal["follow"]
    # Strict: JSON's `true` is not trip 1. Bounded as the column is.
    trip_id: int = Field(ge=1, le=2**63 - 1, strict=True)


RiderMessage = Annotated[Auth | Follow | Heartbeat, Field(discriminator="type")]
rider_message = TypeAdapter[RiderMessage](RiderMessage)
