"""Access tokens: short-lived JWTs naming a user, signed with the shared `TokenCodec`."""

from datetime import timedelta

from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, IssuedToken, TokenCodec
from shop.models import User


def issue_access_token(codec: TokenCodec, user: User, lifetime: timedelta) -> IssuedToken:
    return codec.encode(subject=str(user.id), token_type=ACCESS_TOKEN_TYPE, lifetime=lifetime)
