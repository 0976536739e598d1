"""Tokens this service signs with its Ed25519 private key: customers' access tokens (with
their role, for the catalog, which has no users table), and its own service token for the
calls it makes to the catalog."""

from datetime import UTC, datetime, timedelta

from orders.models import User
from roadmap_shared.security.public_keys import TokenSigner
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, IssuedToken

SERVICE_TOKEN_TYPE = "service"  # noqa: S105 (a token type, not a secret)
SERVICE_TOKEN_LIFETIME = timedelta(minutes=5)


def issue_access_token(signer: TokenSigner, user: User, lifetime: timedelta) -> IssuedToken:
    return signer.encode(
        subject=str(user.id),
        token_type=ACCESS_TOKEN_TYPE,
        lifetime=lifetime,
        claims={"role": user.role.value},
    )


class ServiceToken:
    """The token of this service's own calls, signed once and reused until a minute
    before it expires (signing on every call would cost a signature per request)."""

    def __init__(self, signer: TokenSigner) -> None:
        self._signer = signer
        self._issued: IssuedToken | None = None

    def __call__(self) -> str:
        now = datetime.now(UTC)
        if self._issued is None or self._issued.expires_at - now < timedelta(minutes=1):
            self._issued = self._signer.encode(
                subject="orders", token_type=SERVICE_TOKEN_TYPE, lifetime=SERVICE_TOKEN_LIFETIME
            )
        return self._issued.token
