"""Hostile or unusual input at sign-in and in tokens, handled as in the other stages."""

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.models import User
from roadmap_shared.security.passwords import needs_rehash, verify_password
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE
from tests.factories import PASSWORD, make_user


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


async def test_signing_in_upgrades_a_hash_made_with_older_parameters(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await make_user(db_session)
    outdated = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    await db_session.execute(update(User).where(User.id == user.id).values(password_hash=outdated))

    response = await client.post(
        "/api/users/login", json={"user": {"email": user.email, "password": PASSWORD}}
    )
    assert response.status_code == 200

    stored = await db_session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert stored != outdated
    assert not needs_rehash(stored)
    assert await verify_password(stored, PASSWORD)
