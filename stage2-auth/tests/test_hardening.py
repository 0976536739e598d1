"""Sign-in details shared with the other stages: outdated password hashes are upgraded."""

from argon2 import PasswordHasher
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import User
from roadmap_shared.security.passwords import needs_rehash, verify_password
from tests.factories import PASSWORD, create_user, login


async def test_signing_in_upgrades_a_hash_made_with_older_parameters(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    outdated = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    await db_session.execute(update(User).where(User.id == user.id).values(password_hash=outdated))

    assert (await login(client, user.email)).status_code == 200

    stored = await db_session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert stored != outdated
    assert not needs_rehash(stored)
    assert await verify_password(stored, PASSWORD)
