"""Comments: list, add, delete, and who may delete."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.models import Role
from tests.factories import auth, follow, make_article, make_comment, make_user


async def test_a_signed_in_user_can_comment_and_everyone_can_read_it(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))
    commenter = await make_user(db_session, "jake")

    created = await client.post(
        f"/api/articles/{article.slug}/comments",
        json={"comment": {"body": "Thank you so much!"}},
        headers=auth(settings, commenter),
    )
    listed = await client.get(f"/api/articles/{article.slug}/comments")

    assert created.status_code == 201  # spec v2 (v1 said 200)
    comment = created.json()["comment"]
    assert comment == {
        "id": comment["id"],
        "createdAt": comment["createdAt"],
        "updatedAt": comment["updatedAt"],
        "body": "Thank you so much!",
        "author": {"username": "jake", "bio": None, "image": None, "following": False},
    }
    assert listed.status_code == 200
    assert listed.json() == {"comments": [comment]}


async def test_comments_are_listed_newest_first_with_the_viewers_following_flag(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))
    reader, followed = await make_user(db_session), await make_user(db_session)
    await follow(db_session, reader, followed)
    first = await make_comment(db_session, article, followed)
    second = await make_comment(db_session, article, reader)

    response = await client.get(
        f"/api/articles/{article.slug}/comments", headers=auth(settings, reader)
    )

    comments = response.json()["comments"]
    assert [c["id"] for c in comments] == [second.id, first.id]
    assert [c["author"]["following"] for c in comments] == [False, True]


async def test_an_empty_comment_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))

    response = await client.post(
        f"/api/articles/{article.slug}/comments",
        json={"comment": {"body": " "}},
        headers=auth(settings, await make_user(db_session)),
    )

    assert response.status_code == 422
    assert response.json() == {"errors": {"body": ["can't be blank"]}}


async def test_comments_on_an_unknown_article_are_a_404(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)

    listed = await client.get("/api/articles/nope/comments")
    added = await client.post(
        "/api/articles/nope/comments",
        json={"comment": {"body": "Hi"}},
        headers=auth(settings, user),
    )

    for response in (listed, added):
        assert response.status_code == 404
        assert response.json() == {"errors": {"article": ["not found"]}}


async def test_the_commenter_can_delete_their_comment(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))
    commenter = await make_user(db_session)
    comment = await make_comment(db_session, article, commenter)

    response = await client.delete(
        f"/api/articles/{article.slug}/comments/{comment.id}", headers=auth(settings, commenter)
    )

    assert response.status_code == 204  # spec v2 (v1 said 200)
    assert response.content == b""
    assert (await client.get(f"/api/articles/{article.slug}/comments")).json() == {"comments": []}


async def test_an_author_cannot_delete_another_authors_comment(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article_author = await make_user(db_session)
    article = await make_article(db_session, article_author)
    comment = await make_comment(db_session, article, await make_user(db_session))

    response = await client.delete(
        f"/api/articles/{article.slug}/comments/{comment.id}",
        headers=auth(settings, article_author),
    )

    assert response.status_code == 403
    assert response.json() == {"errors": {"comment": ["forbidden"]}}


async def test_a_moderator_can_delete_anyones_comment(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))
    comment = await make_comment(db_session, article, await make_user(db_session))
    moderator = await make_user(db_session, role=Role.MODERATOR)

    response = await client.delete(
        f"/api/articles/{article.slug}/comments/{comment.id}", headers=auth(settings, moderator)
    )

    assert response.status_code == 204


async def test_a_comment_is_found_only_under_its_own_article(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    article, other_article = (
        await make_article(db_session, author),
        await make_article(db_session, author),
    )
    comment = await make_comment(db_session, article, author)

    wrong_article = await client.delete(
        f"/api/articles/{other_article.slug}/comments/{comment.id}", headers=auth(settings, author)
    )
    unknown = await client.delete(
        f"/api/articles/{article.slug}/comments/999999", headers=auth(settings, author)
    )

    for response in (wrong_article, unknown):
        assert response.status_code == 404
        assert response.json() == {"errors": {"comment": ["not found"]}}


async def test_a_comment_id_no_integer_column_can_hold_is_refused_not_a_crash(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    article = await make_article(db_session, author)

    response = await client.delete(
        f"/api/articles/{article.slug}/comments/99999999999", headers=auth(settings, author)
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["comment_id"]
