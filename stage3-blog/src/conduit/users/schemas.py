"""Request and response bodies of the authentication endpoints (`{"user": {...}}`)."""

from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from conduit.schemas import STORABLE, PartialUpdate, SpecModel

# Usernames appear in URLs (/profiles/:username), so they keep to URL-safe characters:
# checked as sent, so " ada" is refused as the document's pattern says, not trimmed.
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
# A floor against trivial passwords, a ceiling so hashing cannot be made expensive.
Password = Annotated[str, Field(min_length=8, max_length=128)]
Bio = Annotated[str, Field(max_length=1000), STORABLE]


def _web_address(value: str) -> str:
    if value and not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


# The pattern documents what `_web_address` checks: an http(s) URL, or "" to clear.
Image = Annotated[
    str,
    Field(max_length=2048, json_schema_extra={"pattern": "^(https?://|$)"}),
    AfterValidator(_web_address),
    STORABLE,
]


class NewUser(SpecModel):
    username: Username
    email: EmailStr
    password: Password


class RegisterRequest(SpecModel):
    user: NewUser


class Credentials(SpecModel):
    email: Annotated[str, Field(min_length=1, max_length=254), STORABLE]
    password: Annotated[str, Field(min_length=1, max_length=128)]


class LoginRequest(SpecModel):
    user: Credentials


class UserChanges(PartialUpdate):
    """Every field is optional; `bio` and `image` may be set to null (or "") to clear."""

    clearable = frozenset({"bio", "image"})

    username: Username | None = None
    email: EmailStr | None = None
    password: Password | None = None
    bio: Bio | None = None
    image: Image | None = None


class UpdateUserRequest(SpecModel):
    user: UserChanges


class AuthenticatedUser(SpecModel):
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


class UserResponse(SpecModel):
    user: AuthenticatedUser
