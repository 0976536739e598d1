"""Full-text search over titles and bodies: `GET /api/articles?q=...`."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_article, make_user


async def slugs_for(client: AsyncClient, **params: str) -> list[str]:
    response = await client.get("/api/articles", params=params)
    assert response.status_code == 200
    return [article["slug"] for article in response.json()["articles"]]


async def test_search_matches_word_forms_in_titles_and_bodies(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    author = await make_user(db_session)
    in_title = await make_article(db_session, author, "Training dragons", body="Carefully.")
    in_body = await make_article(db_session, author, "A story", body="The dragon slept.")
    await make_article(db_session, author, "Cats", body="Nothing to see.")

    found = await slugs_for(client, q="dragon")

    # A match in the title ranks above one in the body.
    assert found == [in_title.slug, in_body.slug]


async def test_search_understands_what_people_type_into_search_boxes(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    author = await make_user(db_session)
    friendly = await make_article(db_session, author, "Friendly dragons")
    await make_article(db_session, author, "Angry dragons")

    assert await slugs_for(client, q="dragons -angry") == [friendly.slug]
    assert await slugs_for(client, q='"friendly dragons"') == [friendly.slug]
    assert await slugs_for(client, q="((( & unbalanced") == []


async def test_search_combines_with_the_other_filters(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    author = await make_user(db_session)
    tagged = await make_article(db_session, author, "Dragons", tags=["pets"])
    await make_article(db_session, author, "More dragons")

    response = await client.get("/api/articles", params={"q": "dragons", "tag": "pets"})

    assert [a["slug"] for a in response.json()["articles"]] == [tagged.slug]
    assert response.json()["articlesCount"] == 1


async def test_a_blank_search_is_no_filter(client: AsyncClient, db_session: AsyncSession) -> None:
    await make_article(db_session, await make_user(db_session))

    assert len(await slugs_for(client, q="   ")) == 1
