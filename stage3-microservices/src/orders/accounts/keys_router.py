"""`/.well-known/jwks.json`: the public keys of every signing key this service holds, so
that the other services verify its tokens without being able to sign any."""

from fastapi import APIRouter, Response

from orders.dependencies import TokenSignerDep
from roadmap_shared.security.public_keys import JWKS_PATH

router = APIRouter(tags=["keys"])


@router.get(JWKS_PATH, summary="The public keys that verify this service's tokens (JWKS)")
async def jwks(signer: TokenSignerDep, response: Response) -> dict[str, list[dict[str, str]]]:
    # Public and cacheable for a while: a verifier fetches again on an unknown kid anyway.
    response.headers["Cache-Control"] = "public, max-age=300"
    return signer.jwks()
