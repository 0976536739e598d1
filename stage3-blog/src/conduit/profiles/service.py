"""Profiles: another user as the viewer sees them, and following them."""

from sqlalchemy.ext.asyncio import AsyncSession

from conduit.errors import forbidden, not_found
from conduit.models import User
from conduit.profiles import repository
from conduit.profiles.schemas import Profile
from conduit.users import repository as users


def profile_of(user: User, *, following: bool) -> Profile:
    return Profile(username=user.username, bio=user.bio, image=user.image, following=following)


async def find_user(session: AsyncSession, username: str) -> User:
    user = await users.get_by_username(session, username)
    if user is None:
        raise not_found("profile")
    return user


async def get_profile(session: AsyncSession, username: str, viewer_id: int | None) -> Profile:
    row = await repository.profile_row(session, username, viewer_id=viewer_id)
    if row is None:
        raise not_found("profile")
    return Profile(username=row.username, bio=row.bio, image=row.image, following=row.following)


async def follow(session: AsyncSession, username: str, follower: User) -> Profile:
    user = await find_user(session, username)
    if user.id == follower.id:
        # Refused, not invalid: the request is well formed, the caller may not do this.
        raise forbidden("profile", "cannot be followed by itself")
    await repository.follow(session, follower.id, user.id)
    return profile_of(user, following=True)


async def unfollow(session: AsyncSession, username: str, follower: User) -> Profile:
    user = await find_user(session, username)
    await repository.unfollow(session, follower.id, user.id)
    return profile_of(user, following=False)
