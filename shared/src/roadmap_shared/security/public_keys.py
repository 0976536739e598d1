"""Tokens signed with a private key and verified with the public key only (EdDSA, Ed25519).

With an HMAC key (`tokens.TokenCodec`) whoever can verify a token can also mint one, so
every service that checks tokens could forge them. With a key pair, one service signs (the
one that logs users in) and the others hold only the public keys, published as a JSON Web
Key Set (RFC 7517) at `/.well-known/jwks.json`. A service that verifies cannot sign.

Rotation: the signer publishes every key it knows (the active one and the previous ones)
and signs with the active one; a verifier meeting a `kid` it has not seen fetches the set
again, at most once per `min_refetch_seconds`, so a flood of tokens with made-up key ids
cannot turn into a flood of requests to the signer.
"""

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from roadmap_shared.security.tokens import InvalidToken, TokenIssuer, TokenRules, token_kid

# Pinned, as in `tokens`: the verifier never takes the algorithm from the token, so an
# HS256 token "signed" with the public key (algorithm confusion) is refused.
ALGORITHM = "EdDSA"
JWKS_PATH = "/.well-known/jwks.json"
# The default signing key in development: published here, so known to everyone, and refused
# outside development (see `refuse_development_key`). `generate_private_key_pem()` makes a
# real one.
DEVELOPMENT_PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIPaz9ldQPongePZCw58Cf7z8vZZbfLaYC6Sk0KV/UWaT\n"
    "-----END PRIVATE KEY-----\n"
)


def generate_private_key_pem() -> str:
    """A new Ed25519 private key in PKCS#8 PEM: what `*_JWT_PRIVATE_KEYS` holds."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def refuse_development_key(private_keys: Mapping[str, str], variable: str) -> None:
    """Raises ValueError if the published development key is among `private_keys`."""
    if any(pem.strip() == DEVELOPMENT_PRIVATE_KEY.strip() for pem in private_keys.values()):
        raise ValueError(
            f"{variable} holds the development key, which everyone knows; "
            "set a key of your own outside development"
        )


def load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key must be an Ed25519 private key (PKCS#8 PEM)")
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(kid: str, key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(raw),
        "kid": kid,
        "alg": ALGORITHM,
        "use": "sig",
    }


def public_keys_from_jwks(document: object) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 signing keys of a JWKS document, by kid; other entries are skipped."""
    keys: dict[str, Ed25519PublicKey] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        kid, x = entry.get("kid"), entry.get("x")
        if not isinstance(kid, str) or not isinstance(x, str):
            continue
        try:
            raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
            keys[kid] = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            continue
    return keys


class TokenSigner(TokenIssuer):
    """Signs tokens with the active private key; publishes the public half of every key."""

    def __init__(
        self, *, private_keys: Mapping[str, str], active_kid: str, issuer: str, audience: str
    ) -> None:
        self._private_keys = {kid: load_private_key(pem) for kid, pem in private_keys.items()}
        rules = TokenRules(ALGORITHM, issuer, audience)
        super().__init__(signing_keys=self._private_keys, active_kid=active_kid, rules=rules)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        keys = self._private_keys.items()
        return {"keys": [public_jwk(kid, key.public_key()) for kid, key in keys]}

    def verifier(self) -> "TokenVerifier":
        """A verifier with this signer's public keys (the signing service checks its own)."""
        return TokenVerifier(
            public_keys={kid: key.public_key() for kid, key in self._private_keys.items()},
            issuer=self._rules.issuer,
            audience=self._rules.audience,
        )


class TokenVerifier:
    """Verifies tokens against public keys only."""

    def __init__(
        self,
        *,
        public_keys: Mapping[str, Ed25519PublicKey],
        issuer: str,
        audience: str,
        leeway_seconds: int = 0,
    ) -> None:
        self.public_keys = dict(public_keys)
        self._rules = TokenRules(ALGORITHM, issuer, audience, leeway_seconds)

    def decode(self, token: str, *, expected_type: str) -> dict[str, Any]:
        kid = token_kid(token)
        key = self.public_keys.get(kid) if kid is not None else None
        return self._rules.decode(token, key, expected_type=expected_type)


class JwksVerifier:
    """A `TokenVerifier` whose keys come from a JWKS URL: fetched on first use, cached,
    fetched again when a token names a key it does not know (a rotation), but never more
    often than `min_refetch_seconds`. If the set cannot be fetched, tokens signed with keys
    already known still verify; others are refused (401), never a 500."""

    def __init__(
        self,
        *,
        jwks_url: str,
        issuer: str,
        audience: str,
        http: httpx.AsyncClient,
        min_refetch_seconds: float = 30.0,
        timeout_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = jwks_url
        self._http = http
        self._min_refetch = min_refetch_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self._verifier = TokenVerifier(public_keys={}, issuer=issuer, audience=audience)
        self.fetches = 0

    async def decode(self, token: str, *, expected_type: str) -> dict[str, Any]:
        kid = token_kid(token)
        if kid is None:
            raise InvalidToken("the token names no signing key")
        if kid not in self._verifier.public_keys:
            await self._refresh()
        return self._verifier.decode(token, expected_type=expected_type)

    async def _refresh(self) -> None:
        async with self._lock:  # one fetch for a burst of tokens with the new kid
            now = self._clock()
            if self._fetched_at is not None and now - self._fetched_at < self._min_refetch:
                return
            self._fetched_at = now
            self.fetches += 1
            try:
                answer = await self._http.get(self._url, timeout=self._timeout)
                answer.raise_for_status()
                keys = public_keys_from_jwks(answer.json())
            except (httpx.HTTPError, ValueError):
                return  # keep the keys we have; the token is judged against them
            self._verifier.public_keys = keys
