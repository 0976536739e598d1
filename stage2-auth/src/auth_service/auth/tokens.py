"""The two kinds of token this service hands out.

- Access tokens are JWTs: signed, short-lived, checked on every request. They carry the
  user id (`sub`) and the login session id (`sid`), so revoking the session stops them.
- Refresh tokens (and the single-use tokens in emails) are opaque: 256 random bits with no
  meaning of their own, looked up in the database. Only their SHA-256 hash is stored. A
  slow password hash is not needed here: nobody can guess 256 random bits, so the hash only
  has to stop a leaked table from being used as a list of valid tokens.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from roadmap_shared.security.tokens import (
    ACCESS_TOKEN_TYPE,
    INTEGER_MAX,
    InvalidToken,
    IssuedToken,
    TokenCodec,
    subject_user_id,
)


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: uuid.UUID


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_access_token(
    codec: TokenCodec,
    *,
    user_id: int,
    session_id: uuid.UUID,
    lifetime: timedelta,
    now: datetime,
) -> IssuedToken:
    return codec.encode(
        subject=str(user_id),
        token_type=ACCESS_TOKEN_TYPE,
        lifetime=lifetime,
        claims={"sid": str(session_id)},
        now=now,
    )


def read_access_token(codec: TokenCodec, token: str) -> AccessClaims:
    """The claims of a valid access token; raises `InvalidToken` for anything else
    (forged, expired, not yet valid, another token type, or claims we did not write)."""
    claims = codec.decode(token, expected_type=ACCESS_TOKEN_TYPE)
    user_id = subject_user_id(claims, largest=INTEGER_MAX)  # users.id is an INTEGER
    try:
        return AccessClaims(user_id=user_id, session_id=uuid.UUID(claims["sid"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidToken("the token's session is malformed") from exc
