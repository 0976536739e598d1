"""Bodies of the moderation endpoints. They are not part of the RealWorld spec, so they
follow the project's own conventions (snake_case, problem-details errors)."""

from datetime import datetime

from pydantic import BaseModel

from conduit.models import Role


class RoleChange(BaseModel):
    role: Role


class ManagedUser(BaseModel):
    username: str
    role: Role
    suspended_at: datetime | None
