"""What both sockets (the driver's and the rider's) share: JSON text frames with a `type`,
the `auth` and `heartbeat` messages, the error frame and the close codes."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Auth(Message):
    type: Literal["auth"]
    ticket: str = Field(min_length=1, max_length=2000)


class Heartbeat(Message):
    type: Literal["heartbeat"]


# Close codes. 1008 and 1009 are the protocol's own (RFC 6455); 4000-4999 are for
# applications, and these mirror the HTTP statuses they resemble.
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
UNAUTHENTICATED = 4401  # no ticket, or not a valid one
FORBIDDEN = 4403  # a valid ticket, of an account in the other role
TIMED_OUT = 4408

# The subprotocol a client names to send its ticket in the handshake instead of a first
# message: `Sec-WebSocket-Protocol: rides.v1, ticket.<ticket>`.
SUBPROTOCOL = "rides.v1"
TICKET_PREFIX = "ticket."


def error(code: str, detail: str) -> dict[str, str]:
    return {"type": "error", "code": code, "detail": detail}
