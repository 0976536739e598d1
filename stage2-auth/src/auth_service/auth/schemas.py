from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from auth_service.auth.email_address import EmailAddress
from auth_service.auth.password_policy import PASSWORD_MAX_LENGTH
from auth_service.users.schemas import DisplayName

# The policy (minimum length, common passwords...) is checked by the service, which knows
# the settings and the account; the schema only bounds what it will read at all.
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
# Opaque tokens are 43 characters; anything much longer is not one of ours.
OpaqueToken = Annotated[str, Field(min_length=1, max_length=100)]


class RequestBody(BaseModel):
    # An unknown field is a client bug worth reporting, not something to drop silently.
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(RequestBody):
    email: EmailAddress
    password: Password
    display_name: DisplayName

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": "analytical engine notes, 1843",
                    "display_name": "Ada",
                }
            ]
        }
    )


class LoginRequest(RequestBody):
    email: EmailAddress
    password: Password


class RefreshRequest(RequestBody):
    refresh_token: OpaqueToken


class PasswordChangeRequest(RequestBody):
    current_password: Password
    new_password: Password


class PasswordResetRequest(RequestBody):
    email: EmailAddress


class PasswordResetConfirmation(RequestBody):
    token: OpaqueToken
    new_password: Password


class EmailVerificationConfirmation(RequestBody):
    token: OpaqueToken


class TokenResponse(BaseModel):
    """RFC 6749's token response (so OAuth2 clients, Swagger UI among them, understand it),
    plus the refresh token's own lifetime."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    refresh_token_expires_in: int = Field(description="Seconds until the refresh token expires")


class Accepted(BaseModel):
    """The answer to a request that will be carried out by email."""

    detail: str
