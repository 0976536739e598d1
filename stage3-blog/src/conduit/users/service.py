"""The rules of accounts: registration, login, and changing one's own details."""

from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.constraints import violated_unique_constraint
from conduit.errors import conflict, invalid, unauthorized
from conduit.models import User
from conduit.users import repository
from conduit.users.schemas import AuthenticatedUser, NewUser, UserChanges
from roadmap_shared.security.passwords import check_password, hash_password
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, TokenCodec


class ArticleListCache(Protocol):
    """What a profile change needs of the articles' cache (`ContentCache`), stated here so
    that users need not import articles, which imports profiles, which imports users."""

    def forget_article_lists(self, session: AsyncSession) -> None: ...


# Which field a unique constraint protects (names from the naming convention).
_UNIQUE_FIELDS = {"uq_users_username": "username", "uq_users_email": "email"}


def issue_token(codec: TokenCodec, settings: Settings, user: User) -> str:
    return codec.encode(
        subject=str(user.id), token_type=ACCESS_TOKEN_TYPE, lifetime=settings.access_token_lifetime
    ).token


def authenticated_user(user: User, token: str) -> AuthenticatedUser:
    return AuthenticatedUser(
        email=user.email, token=token, username=user.username, bio=user.bio, image=user.image
    )


async def register(session: AsyncSession, new: NewUser) -> User:
    await _refuse_taken(session, username=new.username, email=new.email, except_id=None)
    user = User(
        username=new.username,
        email=new.email.lower(),
        password_hash=await hash_password(new.password),
    )
    session.add(user)
    await _flush_unique(session)
    return user


async def login(session: AsyncSession, email: str, password: str) -> User:
    user = await repository.get_by_email(session, email)
    # The check takes as long for an unknown email as for a wrong password.
    checked = await check_password(user.password_hash if user else None, password)
    if user is None or not checked.matches:
        raise unauthorized("credentials", "invalid")
    if checked.upgraded_hash is not None:  # made with older hashing parameters
        user.password_hash = checked.upgraded_hash
    return user


async def update(
    session: AsyncSession, cache: ArticleListCache, user: User, changes: UserChanges
) -> User:
    # Null (or "") clears `bio` and `image`; the schema refuses it for the other fields.
    sent = changes.model_fields_set
    if not sent:
        raise invalid("user", "must have at least one field to change")
    username = changes.username
    email = changes.email.lower() if changes.email is not None else None
    await _refuse_taken(session, username=username, email=email, except_id=user.id)
    if username is not None:
        user.username = username
    if email is not None:
        user.email = email
    if changes.password is not None:
        user.password_hash = await hash_password(changes.password)
    if "bio" in sent:
        user.bio = changes.bio or None
    if "image" in sent:
        user.image = changes.image or None
    await _flush_unique(session)
    cache.forget_article_lists(session)  # they show the author's name, bio and image
    return user


async def _refuse_taken(
    session: AsyncSession, *, username: str | None, email: str | None, except_id: int | None
) -> None:
    taken = await repository.taken_fields(
        session, username=username, email=email, except_id=except_id
    )
    if taken:
        raise conflict(taken[0], "has already been taken")


async def _flush_unique(session: AsyncSession) -> None:
    """Writes pending changes; a unique violation (a concurrent request took the name
    between our check and our write) becomes the same 409 the check would have given.
    The request's transaction is rolled back either way."""
    try:
        await session.flush()
    except IntegrityError as error:
        field = _UNIQUE_FIELDS.get(violated_unique_constraint(error) or "")
        if field is None:
            raise
        raise conflict(field, "has already been taken") from error
