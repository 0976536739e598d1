"""What admins may do to other users: list them, change their role, deactivate them.

Its own domain, above `users` and `auth`: deactivating a user ends their sessions, so it
needs both, while neither of them needs it.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth import repository as sessions
from auth_service.models import EmailTokenPurpose, SessionEndReason, User, UserRole
from auth_service.users import repository
from auth_service.users.schemas import UserFilters, UserStatus
from roadmap_shared.database import utcnow
from roadmap_shared.errors import Forbidden, NotFound
from roadmap_shared.pagination import PageParams


async def list_users(
    session: AsyncSession, filters: UserFilters, page: PageParams
) -> tuple[Sequence[User], int]:
    is_active = None if filters.status is None else filters.status is UserStatus.ACTIVE
    return await repository.list_users(session, role=filters.role, is_active=is_active, page=page)


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await repository.get_by_id(session, user_id)
    if user is None:
        raise NotFound("No user has this id.")
    return user


def _not_yourself(admin: User, target: User, action: str) -> None:
    # An admin who demotes or deactivates themselves could leave nobody able to undo it.
    if admin.id == target.id:
        raise Forbidden(f"Admins cannot {action} themselves; ask another admin.")


async def change_role(session: AsyncSession, admin: User, user_id: int, role: UserRole) -> User:
    user = await get_user(session, user_id)
    _not_yourself(admin, user, "change the role of")
    # Takes effect on the user's next request: the role is read from the database each
    # time, never from the token.
    user.role = role
    return user


async def deactivate(session: AsyncSession, admin: User, user_id: int) -> User:
    user = await get_user(session, user_id)
    _not_yourself(admin, user, "deactivate")
    user.is_active = False
    # Their sessions end now: access tokens fail on the next request, refresh tokens too.
    await sessions.revoke_all_sessions(
        session, user.id, reason=SessionEndReason.DEACTIVATED, now=utcnow()
    )
    # A reset link already in an inbox (perhaps an intruder's) must not open the account
    # again once it is reactivated.
    await sessions.discard_email_tokens(
        session, user_id=user.id, purpose=EmailTokenPurpose.PASSWORD_RESET
    )
    return user


async def reactivate(session: AsyncSession, user_id: int) -> User:
    user = await get_user(session, user_id)
    # Sessions ended by the deactivation stay ended: the user signs in again.
    user.is_active = True
    return user
