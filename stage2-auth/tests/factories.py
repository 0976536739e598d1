"""Small functions that make test data: users, signed-in sessions, tasks, and the emails
the service has queued.

They commit: in the harness that releases a savepoint inside the test's transaction (still
rolled back after the test), so a request that fails and rolls back does not take the
test's data with it.
"""

import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth.service import start_session
from auth_service.config import Settings
from auth_service.emails.sender import EmailMessage
from auth_service.models import OutboxEmail, Task, TaskPriority, TaskStatus, User, UserRole
from auth_service.tasks.repository import tags_named
from roadmap_shared.testing.factories import password_hash
from roadmap_shared.testing.queries import QueryLog

# The type of the harness's `query_counter` fixture.
QueryCounter = Callable[[], AbstractContextManager[QueryLog]]

PASSWORD = "a long passphrase nobody guesses"


def unique_email(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


async def create_user(
    session: AsyncSession,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str = "Test User",
    admin: bool = False,
    active: bool = True,
) -> User:
    user = User(
        email=email or unique_email(display_name.lower().replace(" ", "-")),
        password_hash=await password_hash(password),
        display_name=display_name,
        role=UserRole.ADMIN if admin else UserRole.USER,
        is_active=active,
    )
    session.add(user)
    await session.commit()
    return user


@dataclass(frozen=True)
class SignedIn:
    """A user with a live session: their tokens, and the header to send."""

    user: User
    access_token: str
    refresh_token: str
    password: str = PASSWORD

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)

    @property
    def email(self) -> str:
        return self.user.email


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in(session: AsyncSession, settings: Settings, user: User) -> SignedIn:
    """A session made as /auth/login makes it, without paying for a password check."""
    tokens = await start_session(session, settings, settings.token_codec(), user)
    await session.commit()
    return SignedIn(user, tokens.access_token, tokens.refresh_token)


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[AsyncClient]:
    """A client whose requests come from `address`. Use it beside the `client` fixture,
    which runs the app and puts its requests in the test's transaction."""
    transport = ASGITransport(app=app, client=(address, 50_000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> Response:
    return await client.post("/auth/login", json={"email": email, "password": password})


async def register(
    client: AsyncClient, email: str | None = None, password: str = PASSWORD
) -> Response:
    return await client.post(
        "/auth/register",
        json={"email": email or unique_email(), "password": password, "display_name": "New"},
    )


async def create_task(
    session: AsyncSession,
    owner: User,
    *,
    title: str = "Water the plants",
    notes: str = "",
    status: TaskStatus = TaskStatus.TODO,
    priority: TaskPriority = TaskPriority.MEDIUM,
    due_date: date | None = None,
    tags: tuple[str, ...] = (),
) -> Task:
    task = Task(
        owner_id=owner.id,
        title=title,
        notes=notes,
        status=status,
        priority=priority,
        due_date=due_date,
        tags=await tags_named(session, owner.id, sorted(tags)),
    )
    session.add(task)
    await session.commit()
    return task


async def emails_to(session: AsyncSession, address: str) -> list[OutboxEmail]:
    emails = await session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
    )
    return list(emails)


class RecordingSender:
    """An `EmailSender` that keeps what it is given. Once an email is delivered, the
    outbox no longer holds its link: tests that really commit read the link here."""

    def __init__(self, failing_address: str | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.failing_address = failing_address

    async def send(self, message: EmailMessage) -> None:
        if message.to == self.failing_address:
            raise ConnectionError("mail server said no")
        self.sent.append(message)


def token_in(email: OutboxEmail | EmailMessage) -> str:
    """The token from the link in an email (`...#token=<token>`)."""
    found = re.search(r"#token=([A-Za-z0-9_-]+)", email.body)
    assert found, email.body
    return found.group(1)
