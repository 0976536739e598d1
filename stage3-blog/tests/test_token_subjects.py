"""A token with a valid signature but a subject that is not a user id is a bad token."""

from datetime import timedelta

import pytest
from httpx import AsyncClient

from conduit.config import Settings
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE


@pytest.mark.parametrize("subject", [str(2**63), "abc", "-1", "1e3", " 1", "0", "\u0661"])
@pytest.mark.parametrize("path", ["/api/user", "/api/articles"])
async def test_a_signed_token_whose_subject_is_not_a_user_id_is_refused(
    client: AsyncClient, settings: Settings, subject: str, path: str
) -> None:
    token = (
        settings.token_codec()
        .encode(subject=subject, token_type=ACCESS_TOKEN_TYPE, lifetime=timedelta(minutes=5))
        .token
    )

    response = await client.get(path, headers={"Authorization": f"Token {token}"})

    assert response.status_code == 401
    assert response.json() == {"errors": {"token": ["is invalid or expired"]}}
