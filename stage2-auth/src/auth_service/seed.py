"""`python -m auth_service.seed` (`make seed STAGE=stage2-auth`): demo accounts and tasks
for trying the API on a laptop. Running it again adds nothing twice.

The accounts share a password printed below, so this refuses to run in production. To make
a real first admin there, register normally and promote the account in SQL:
`UPDATE users SET role = 'admin' WHERE email = 'you@example.com';`
"""

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.config import get_settings
from auth_service.models import TaskPriority, TaskStatus, User, UserRole
from auth_service.tasks.schemas import TaskCreate
from auth_service.tasks.service import create_task
from auth_service.users import repository as users
from roadmap_shared.database import Database, utcnow
from roadmap_shared.security.passwords import hash_password
from roadmap_shared.settings import Environment

DEMO_PASSWORD = "roadmap demo passphrase"  # noqa: S105 (printed on purpose, development only)
DEMO_USERS = [
    ("admin@example.com", "Admin", UserRole.ADMIN),
    ("ada@example.com", "Ada", UserRole.USER),
    ("grace@example.com", "Grace", UserRole.USER),
]


def demo_tasks() -> list[TaskCreate]:
    today = utcnow().date()
    return [
        TaskCreate(
            title="Write the report",
            notes="Sections 1 to 3, with the figures from last week.",
            priority=TaskPriority.HIGH,
            due_date=today + timedelta(days=2),
            tags=["work"],
        ),
        TaskCreate(
            title="Renew passport",
            status=TaskStatus.IN_PROGRESS,
            due_date=today + timedelta(days=30),
            tags=["admin", "travel"],
        ),
        TaskCreate(title="Water the plants", priority=TaskPriority.LOW, tags=["home"]),
        TaskCreate(title="Book the dentist", status=TaskStatus.DONE, tags=["health"]),
    ]


async def seed(session: AsyncSession) -> list[str]:
    """Creates the demo users that do not exist yet, each with a few tasks; returns what
    it did, one line per user."""
    report = []
    password_hash = await hash_password(DEMO_PASSWORD)
    for email, name, role in DEMO_USERS:
        if await users.get_by_email(session, email) is not None:
            report.append(f"{email} already exists")
            continue
        user = User(
            email=email,
            display_name=name,
            role=role,
            password_hash=password_hash,
            email_verified_at=utcnow(),
        )
        session.add(user)
        await session.flush()
        for task in demo_tasks():
            await create_task(session, user, task)
        report.append(f"created {role} {email}")
    return report


async def main() -> None:
    settings = get_settings()
    if settings.environment is Environment.PRODUCTION:
        raise SystemExit("seed creates accounts with a published password; not in production")
    database = Database(settings.database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            report = await seed(session)
    finally:
        await database.dispose()
    print("\n".join(report))
    print(f"Every demo account's password: {DEMO_PASSWORD!r}")


if __name__ == "__main__":
    asyncio.run(main())
