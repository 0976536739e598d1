from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from roadmap_shared.fields import StoredText
from social.models.accounts import BIO_MAX_LENGTH, DISPLAY_NAME_MAX_LENGTH, USERNAME_MAX_LENGTH

# NIST SP 800-63B: no composition rules, a sensible minimum; the upper bound keeps a
# megabyte "password" from costing the hasher real work.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
# Letters, digits and underscores: a username is part of URLs and of @mentions.
USERNAME_PATTERN = r"^[A-Za-z0-9_]+$"

Username = Annotated[
    str,
    StringConstraints(min_length=3, max_length=USERNAME_MAX_LENGTH, pattern=USERNAME_PATTERN),
]


class RegisterRequest(BaseModel):
    username: Username
    email: EmailStr
    display_name: StoredText = Field(min_length=1, max_length=DISPLAY_NAME_MAX_LENGTH)
    bio: StoredText = Field(default="", max_length=BIO_MAX_LENGTH)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


class LoginRequest(BaseModel):
    email: EmailStr
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class UserPublic(BaseModel):
    """The signed-in user's own account: the only answer that shows an email address."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str
    display_name: str
    bio: str


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the token expires")
