"""Signed JWTs with one pinned algorithm, required claims, a token type and key rotation.

Every token names the key that signed it (`kid` in the header). Tokens are signed with the
active key and verified with any known key, so a new key can be introduced while tokens
signed with the previous one are still valid; remove the old key once they have expired.
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# Pinned: the algorithm is never taken from the token, so `alg: none` and algorithm
# confusion attacks fail before any signature is checked.
ALGORITHM = "HS256"
MIN_KEY_BYTES = 32
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "nbf", "sub", "jti", "typ")
# The `typ` of the tokens that authenticate requests. (A token type, not a secret.)
ACCESS_TOKEN_TYPE = "access"  # noqa: S105
# User ids are positive PostgreSQL integers; the largest depends on the stage's column type.
_USER_ID = re.compile(r"[1-9][0-9]{0,18}")
INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1


class InvalidToken(Exception):
    """The token is malformed, forged, expired, not yet valid, or of the wrong type."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


# What signs a token and what verifies it: one HMAC secret for both (`TokenCodec`), or
# the two halves of an Ed25519 key pair (`public_keys`).
SigningKey = str | Ed25519PrivateKey
VerifyingKey = str | Ed25519PublicKey


@dataclass(frozen=True)
class TokenRules:
    """What a service's tokens are checked for, whichever key signs them: the pinned
    algorithm, who issued them and for whom, the registered claims (`TokenIssuer.encode`
    writes them all), and a type (an access token is never accepted where another kind
    of token is expected)."""

    algorithm: str
    issuer: str
    audience: str
    leeway_seconds: int = 0

    def decode(self, token: str, key: VerifyingKey | None, *, expected_type: str) -> dict[str, Any]:
        """The claims of `token`, verified with `key` (the one its `kid` names; None when
        that kid is unknown)."""
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        self.check_type_and_time(claims, expected_type=expected_type)
        return claims

    def check_type_and_time(self, claims: Mapping[str, Any], *, expected_type: str) -> None:
        """What `decode` checks that can change after a token was verified: the type asked
        for, and whether the token is valid now (`exp`, `nbf`, as PyJWT compares them)."""
        if claims["typ"] != expected_type:
            raise InvalidToken(f"expected a {expected_type} token, got {claims['typ']}")
        now = datetime.now(UTC).timestamp()
        if claims["exp"] <= now - self.leeway_seconds:
            raise InvalidToken("Signature has expired")
        if claims["nbf"] > now + self.leeway_seconds:
            raise InvalidToken("The token is not yet valid (nbf)")


def token_kid(token: str) -> str | None:
    """The `kid` a token's header names, unverified; `InvalidToken` if it is not a JWT."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    return kid if isinstance(kid, str) else None


class TokenIssuer:
    """Signs tokens with the active key, naming it in the header (`kid`); the others are
    kept to verify what they signed."""

    def __init__(
        self, *, signing_keys: Mapping[str, SigningKey], active_kid: str, rules: TokenRules
    ) -> None:
        if active_kid not in signing_keys:
            raise ValueError(f"active key {active_kid!r} is not among the configured keys")
        self._signing_keys = dict(signing_keys)
        self._active_kid = active_kid
        self._rules = rules

    def encode(
        self,
        *,
        subject: str,
        token_type: str,
        lifetime: timedelta,
        claims: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> IssuedToken:
        issued_at = now or datetime.now(UTC)
        expires_at = issued_at + lifetime
        jti = uuid.uuid4().hex
        payload = {
            **(claims or {}),
            "iss": self._rules.issuer,
            "aud": self._rules.audience,
            "sub": subject,
            "typ": token_type,
            "jti": jti,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": expires_at,
        }
        token = jwt.encode(
            payload,
            self._signing_keys[self._active_kid],
            algorithm=self._rules.algorithm,
            headers={"kid": self._active_kid},
        )
        return IssuedToken(token=token, jti=jti, expires_at=expires_at)


# Tokens a `TokenCodec` has verified, kept with their claims (per codec, the oldest dropped
# first). A client sends the same token with every request, and verifying it again (PyJWT
# parsing it twice, the HMAC, the claim checks) cost about 0.1 ms of CPU each time: a
# tenth of a cheap read. Only what can change is checked again (`check_type_and_time`).
# Only tokens that verified are kept, so forged ones cannot fill it.
VERIFIED_TOKENS_KEPT = 1024


class TokenCodec(TokenIssuer):
    """Signs and verifies with shared secrets (HMAC): whoever verifies could also sign."""

    def __init__(
        self,
        *,
        keys: Mapping[str, str],
        active_kid: str,
        issuer: str,
        audience: str,
        leeway_seconds: int = 0,
    ) -> None:
        rules = TokenRules(ALGORITHM, issuer, audience, leeway_seconds)
        super().__init__(signing_keys=keys, active_kid=active_kid, rules=rules)
        if short := [kid for kid, key in keys.items() if len(key.encode()) < MIN_KEY_BYTES]:
            raise ValueError(f"keys shorter than {MIN_KEY_BYTES} bytes: {', '.join(short)}")
        self._keys = dict(keys)
        self._verified: dict[str, dict[str, Any]] = {}

    def decode(self, token: str, *, expected_type: str) -> dict[str, Any]:
        claims = self._verified.get(token)
        if claims is not None:
            self._rules.check_type_and_time(claims, expected_type=expected_type)
            return dict(claims)  # a copy: a caller changing it must not change the next
        kid = token_kid(token)
        key = self._keys.get(kid) if kid is not None else None
        claims = self._rules.decode(token, key, expected_type=expected_type)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            # Dicts keep insertion order: the first key is the oldest. `pop`, not `del`: two
            # threads evicting at once (were decode ever run off the event loop) must not
            # both delete the same key.
            self._verified.pop(next(iter(self._verified)), None)
        self._verified[token] = claims
        return dict(claims)


def subject_user_id(claims: Mapping[str, Any], *, largest: int = BIGINT_MAX) -> int:
    """The user id a verified token names in `sub`; `InvalidToken` unless it is one.

    A valid signature proves we issued the token, not that every claim is what today's
    code expects (an older release, or another service sharing the key, may have written
    it). Only plain ASCII digits that fit a BIGINT pass: `int()` alone would accept " 1",
    "+1", "1_0" and Arabic-Indic digits, and a number past the id column's range (`largest`:
    `INTEGER_MAX` for an INTEGER column) would reach the database and fail there, as a 500.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _USER_ID.fullmatch(subject):
        raise InvalidToken("the subject is not a user id")
    user_id = int(subject)
    if user_id > largest:
        raise InvalidToken("the subject is not a user id")
    return user_id
