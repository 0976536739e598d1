"""Moderation rules. Staff act only on accounts ranked below them: a moderator can suspend
users, an admin can suspend users and moderators, and nobody can suspend an admin (or
lock themselves out)."""

from sqlalchemy.ext.asyncio import AsyncSession

from conduit.admin.schemas import ManagedUser
from conduit.models import Role, User
from conduit.users import repository as users
from roadmap_shared.database import utcnow
from roadmap_shared.errors import Forbidden, NotFound


def managed(user: User) -> ManagedUser:
    return ManagedUser(username=user.username, role=user.role, suspended_at=user.suspended_at)


async def _target(session: AsyncSession, username: str) -> User:
    user = await users.get_by_username(session, username)
    if user is None:
        raise NotFound(f"There is no user {username!r}.")
    return user


def _require_outranks(actor: User, target: User) -> None:
    if actor.role.rank <= target.role.rank:
        raise Forbidden(f"A {actor.role} cannot moderate a {target.role}.")


async def suspend(session: AsyncSession, username: str, actor: User) -> User:
    target = await _target(session, username)
    _require_outranks(actor, target)
    if target.suspended_at is None:  # idempotent: keep when it started
        target.suspended_at = utcnow()
    return target


async def unsuspend(session: AsyncSession, username: str, actor: User) -> User:
    target = await _target(session, username)
    _require_outranks(actor, target)
    target.suspended_at = None
    return target


async def change_role(session: AsyncSession, username: str, role: Role, actor: User) -> User:
    target = await _target(session, username)
    if target.id == actor.id:
        # Otherwise the last admin could demote themselves and leave nobody to undo it.
        raise Forbidden("Admins cannot change their own role.")
    target.role = role
    return target
