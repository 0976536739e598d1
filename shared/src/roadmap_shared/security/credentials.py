"""Reading the credentials a client sends in the `Authorization` header."""

from roadmap_shared.errors import Unauthorized


def credentials_from_header(authorization: str | None, *, scheme: str = "Bearer") -> str:
    """The token in `Authorization: <scheme> <token>`; 401 with `WWW-Authenticate` otherwise.

    The scheme is compared case-insensitively (RFC 9110, section 11.1).
    """
    if not authorization:
        raise Unauthorized("Missing credentials", scheme=scheme)
    given_scheme, _, token = authorization.partition(" ")
    if given_scheme.lower() != scheme.lower() or not token.strip():
        raise Unauthorized(f"Expected `Authorization: {scheme} <token>`", scheme=scheme)
    return token.strip()
