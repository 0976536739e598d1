import uuid
from typing import Annotated, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from payments.models import Role
from roadmap_shared.fields import StoredText

# NIST SP 800-63B: at least 8 characters, no composition rules; we ask for 12. The upper
# bound keeps a megabyte "password" from costing the hasher real work.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

# `format: email` is only the syntax. email-validator, which decides, also refuses what no
# mail can reach (RFC 6761's special-use names, and the like): the document says so, so a
# client knows a 422 for `grace@payments.test` is the rule, not a fault.
_SPECIAL_USE_DOMAINS = ", ".join(f"`.{name}`" for name in SPECIAL_USE_DOMAIN_NAMES)
EMAIL_DESCRIPTION = (
    "An address mail can reach. Refused with 422 beyond the syntax: a domain that is "
    f"special-use or reserved ({_SPECIAL_USE_DOMAINS}, and any name under them), "
    "an IP address, or a domain without a dot."
)
EmailAddress = Annotated[EmailStr, Field(description=EMAIL_DESCRIPTION)]


class RegisterRequest(BaseModel):
    email: EmailAddress
    name: StoredText = Field(min_length=1, max_length=100)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


class LoginRequest(BaseModel):
    email: EmailAddress
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class CustomerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    role: Role


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the token expires")
