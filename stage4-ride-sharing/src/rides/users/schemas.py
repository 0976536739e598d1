from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from rides.models import Role
from roadmap_shared.fields import StoredText

# NIST SP 800-63B: no composition rules, a sensible minimum; the upper bound keeps a
# megabyte "password" from costing the hasher real work.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


class RegisterRequest(BaseModel):
    email: EmailStr
    name: StoredText = Field(min_length=1, max_length=100)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    role: Role = Field(description="rider or driver, for good: one account, one role")


class LoginRequest(BaseModel):
    email: EmailStr
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the token expires")


class SocketTicket(BaseModel):
    ticket: str = Field(description="Send it as the first message on the driver socket")
    expires_in: int = Field(description="Seconds until the ticket expires")
