"""Access tokens: short-lived JWTs naming a user, signed with the shared `TokenCodec`."""

from datetime import timedelta
from typing import Any

from roadmap_shared.security.tokens import InvalidToken, IssuedToken, TokenCodec
from shop.models import User

# The `typ` claim: a token made for another purpose is refused. (A name, not a secret.)
ACCESS_TOKEN = "access"  # noqa: S105


def issue_access_token(codec: TokenCodec, user: User, lifetime: timedelta) -> IssuedToken:
    return codec.encode(subject=str(user.id), token_type=ACCESS_TOKEN, lifetime=lifetime)


def user_id_from_claims(claims: dict[str, Any]) -> int:
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.isdigit():
        raise InvalidToken("the subject is not a user id")
    return int(subject)
