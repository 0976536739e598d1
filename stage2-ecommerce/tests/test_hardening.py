"""Sign-in details shared with the other stages: outdated password hashes are upgraded."""

from argon2 import PasswordHasher
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.security.passwords import needs_rehash, verify_password
from shop.models import User
from tests.factories import PASSWORD, make_user


async def test_signing_in_upgrades_a_hash_made_with_older_parameters(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await make_user(db_session)
    outdated = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    await db_session.execute(update(User).where(User.id == user.id).values(password_hash=outdated))

    response = await client.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200

    stored = await db_session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert stored != outdated
    assert not needs_rehash(stored)
    assert await verify_password(stored, PASSWORD)
