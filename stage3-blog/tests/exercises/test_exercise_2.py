"""Exercise 2 (medium): old slugs keep working. `make exercise STAGE=stage3-blog N=2`"""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from tests.factories import auth, make_user

pytestmark = pytest.mark.exercise
TODO = "Exercise 2: an article's old slugs answer 301 to its new one (see the README)"


async def publish(client: AsyncClient, headers: dict[str, str], title: str) -> str:
    article = {"article": {"title": title, "description": "d", "body": "b"}}
    response = await client.post("/api/articles", json=article, headers=headers)
    assert response.status_code == 201, response.text
    slug: str = response.json()["article"]["slug"]
    return slug


async def retitle(client: AsyncClient, headers: dict[str, str], slug: str, title: str) -> str:
    changes = {"article": {"title": title}}
    response = await client.put(f"/api/articles/{slug}", json=changes, headers=headers)
    assert response.status_code == 200, response.text
    new_slug: str = response.json()["article"]["slug"]
    return new_slug


async def test_an_old_slug_redirects_to_the_current_one(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    headers = auth(settings, await make_user(db_session))
    first = await publish(client, headers, "First title")
    second = await retitle(client, headers, first, "Second title")
    third = await retitle(client, headers, second, "Third title")

    for old in [first, second]:
        response = await client.get(f"/api/articles/{old}")
        assert response.status_code == 301, f"{TODO}: GET /api/articles/{old}"
        assert response.headers["location"] == f"/api/articles/{third}", TODO
    assert (await client.get(f"/api/articles/{third}")).status_code == 200


async def test_an_old_slug_is_never_given_to_another_article(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    headers = auth(settings, await make_user(db_session))
    first = await publish(client, headers, "Shared words")
    await retitle(client, headers, first, "Other words")
    newcomer = await publish(client, headers, "Shared words")
    assert newcomer != first, f"{TODO}: old slugs stay reserved"
    response = await client.get(f"/api/articles/{first}")
    assert response.status_code == 301, f"{TODO}: GET /api/articles/{first}"


async def test_deleting_an_article_forgets_its_old_slugs(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    headers = auth(settings, await make_user(db_session))
    first = await publish(client, headers, "Short lived")
    second = await retitle(client, headers, first, "Soon gone")
    assert (await client.get(f"/api/articles/{first}")).status_code == 301, TODO
    deleted = await client.delete(f"/api/articles/{second}", headers=headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/articles/{first}")).status_code == 404
