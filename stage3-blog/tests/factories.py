"""Small functions that make test data directly in the database (fast: no HTTP, and one
password hash for every user), and sign tokens for the users they make.

Each one commits, which inside the test's transaction only releases a savepoint: the data
stays until the test ends, even if a request under test fails and rolls back its own work.
"""

import itertools
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.models import Article, Comment, Favorite, Follow, Role, User
from conduit.tags.repository import set_article_tags
from conduit.users.service import issue_token
from roadmap_shared.database import utcnow
from roadmap_shared.testing.factories import password_hash

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


async def make_user(
    session: AsyncSession,
    username: str | None = None,
    *,
    role: Role = Role.USER,
    suspended: bool = False,
    bio: str | None = None,
) -> User:
    name = username or f"user{next(_numbers)}"
    user = User(
        username=name,
        email=f"{name.lower()}@example.com",
        password_hash=await password_hash(PASSWORD),
        bio=bio,
        role=role,
        suspended_at=utcnow() if suspended else None,
    )
    session.add(user)
    await session.commit()
    return user


def auth(settings: Settings, user: User) -> dict[str, str]:
    return {"Authorization": f"Token {issue_token(settings.token_codec(), settings, user)}"}


async def make_article(
    session: AsyncSession,
    author: User,
    title: str | None = None,
    *,
    body: str = "Some body text.",
    tags: list[str] | None = None,
    created_at: datetime | None = None,
) -> Article:
    number = next(_numbers)
    article = Article(
        slug=f"article-{number}",
        title=title or f"Article {number}",
        description="A description.",
        body=body,
        author_id=author.id,
    )
    if created_at is not None:
        article.created_at = article.updated_at = created_at
    session.add(article)
    await session.flush()
    await set_article_tags(session, article.id, tags or [])
    await session.commit()
    return article


async def make_articles(
    session: AsyncSession, author: User, count: int, *, tags: list[str] | None = None
) -> list[Article]:
    """`count` articles, one minute apart, the last one newest."""
    start = utcnow() - timedelta(minutes=count)
    return [
        await make_article(session, author, tags=tags, created_at=start + timedelta(minutes=minute))
        for minute in range(count)
    ]


async def make_comment(session: AsyncSession, article: Article, author: User) -> Comment:
    comment = Comment(article_id=article.id, author_id=author.id, body="A comment.")
    session.add(comment)
    await session.commit()
    return comment


async def follow(session: AsyncSession, follower: User, followee: User) -> None:
    await session.execute(insert(Follow).values(follower_id=follower.id, followee_id=followee.id))
    await session.commit()


async def favorite(session: AsyncSession, user: User, article: Article) -> None:
    await session.execute(insert(Favorite).values(user_id=user.id, article_id=article.id))
    await session.commit()
