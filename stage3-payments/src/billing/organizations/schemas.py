from pydantic import BaseModel, ConfigDict, EmailStr, Field

from billing.models import Role
from roadmap_shared.fields import StoredText


class OrganizationCreate(BaseModel):
    name: StoredText = Field(min_length=1, max_length=100)


class OrganizationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class MyOrganization(OrganizationPublic):
    role: Role


class MemberAdd(BaseModel):
    email: EmailStr
    role: Role = Role.MEMBER


class MemberPublic(BaseModel):
    user_id: int
    email: str
    name: str
    role: Role
