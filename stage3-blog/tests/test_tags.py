"""The tag list."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_article, make_user


async def test_tags_in_use_are_listed_most_used_first(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    author = await make_user(db_session)
    await make_article(db_session, author, tags=["dragons", "training"])
    await make_article(db_session, author, tags=["dragons"])

    response = await client.get("/api/tags")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"tags": ["dragons", "training"]}


async def test_with_no_articles_there_are_no_tags(client: AsyncClient) -> None:
    response = await client.get("/api/tags")

    assert response.json() == {"tags": []}
