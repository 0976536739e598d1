from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import Task, User
from auth_service.seed import DEMO_PASSWORD, seed
from tests.factories import login


async def test_seeding_creates_demo_accounts_that_can_sign_in(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    report = await seed(db_session)
    await db_session.commit()
    assert report == [
        "created admin admin@example.com",
        "created user ada@example.com",
        "created user grace@example.com",
    ]
    assert (await login(client, "ada@example.com", DEMO_PASSWORD)).status_code == 200
    token = (await login(client, "admin@example.com", DEMO_PASSWORD)).json()["access_token"]
    users = await client.get("/users", headers={"Authorization": f"Bearer {token}"})
    assert users.json()["total"] == 3


async def test_seeding_twice_adds_nothing(db_session: AsyncSession) -> None:
    await seed(db_session)
    report = await seed(db_session)
    assert all(line.endswith("already exists") for line in report)
    assert await db_session.scalar(select(func.count()).select_from(User)) == 3
    assert await db_session.scalar(select(func.count()).select_from(Task)) == 12
