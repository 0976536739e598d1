from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from social.models.accounts import USERNAME_MAX_LENGTH
from social.users.schemas import USERNAME_PATTERN

UsernamePath = Annotated[
    str, Path(min_length=1, max_length=USERNAME_MAX_LENGTH, pattern=USERNAME_PATTERN)
]


class Profile(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    bio: str
    followers_count: int
    following_count: int
    following: bool = Field(description="Whether the caller follows this user")


class ProfileSummary(BaseModel):
    """A user in a followers or following list."""

    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
