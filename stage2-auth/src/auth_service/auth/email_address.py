"""The one form an email address is stored, compared and rate-limited in."""

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field

# RFC 5321 allows at most 320 characters (64 before the @, 255 after).
EMAIL_MAX_LENGTH = 320


def normalise_email(address: str) -> str:
    """Trims, validates and lower-cases an address; raises ValueError when it is not valid.

    email-validator checks the syntax and normalises Unicode and the domain. We lower-case
    the part before the @ too: RFC 5321 would let a mail server treat "Ada" and "ada" as two
    mailboxes, but no mainstream provider does, and people type their address in any case.
    No DNS lookup: it would make registration slow and fail offline; the verification
    email proves the address works.
    """
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return result.normalized.lower()


# A request field holding an address: refused with 422 when invalid, normalised otherwise.
# The document says `format: email`, so that clients (and fuzzers) know what is refused.
EmailAddress = Annotated[
    str,
    Field(max_length=EMAIL_MAX_LENGTH, json_schema_extra={"format": "email"}),
    AfterValidator(normalise_email),
]
