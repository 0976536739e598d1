from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from auth_service.models import UserRole
from roadmap_shared.fields import StoredText

DisplayName = Annotated[
    StoredText, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: UserRole
    is_active: bool
    email_verified_at: datetime | None
    created_at: datetime


class ProfileUpdate(BaseModel):
    """What users may change about themselves. The email address is not here: changing it
    needs the new address verified before it replaces the old (an exercise)."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: UserRole


class UserStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class UserFilters(BaseModel):
    # Not extra="forbid": the same query string carries `page` and `size` (PageParams).
    role: UserRole | None = None
    status: UserStatus | None = None
