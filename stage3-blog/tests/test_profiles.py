"""Profiles: reading one, following and unfollowing."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from tests.factories import auth, follow, make_user


async def test_an_anonymous_reader_sees_a_profile_not_followed(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_user(db_session, "celeb", bio="Famous.")

    response = await client.get("/api/profiles/celeb")

    assert response.status_code == 200
    assert response.json() == {
        "profile": {"username": "celeb", "bio": "Famous.", "image": None, "following": False}
    }


async def test_following_shows_in_the_profile_and_unfollowing_undoes_it(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    fan, celeb = await make_user(db_session), await make_user(db_session, "celeb")
    headers = auth(settings, fan)

    followed = await client.post("/api/profiles/celeb/follow", headers=headers)
    seen = await client.get("/api/profiles/celeb", headers=headers)
    unfollowed = await client.delete("/api/profiles/celeb/follow", headers=headers)
    seen_after = await client.get("/api/profiles/celeb", headers=headers)

    assert followed.status_code == 200
    assert followed.json()["profile"]["following"] is True
    assert seen.json()["profile"]["following"] is True
    assert unfollowed.json()["profile"] == {
        "username": celeb.username,
        "bio": None,
        "image": None,
        "following": False,
    }
    assert seen_after.json()["profile"]["following"] is False


async def test_following_twice_is_harmless(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    fan, celeb = await make_user(db_session), await make_user(db_session)
    await follow(db_session, fan, celeb)

    again = await client.post(f"/api/profiles/{celeb.username}/follow", headers=auth(settings, fan))

    assert again.status_code == 200
    assert again.json()["profile"]["following"] is True


async def test_nobody_can_follow_themselves(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)

    response = await client.post(
        f"/api/profiles/{user.username}/follow", headers=auth(settings, user)
    )

    assert response.status_code == 403  # well formed, but not allowed
    assert response.json() == {"errors": {"profile": ["cannot be followed by itself"]}}


async def test_an_unknown_profile_is_a_404_in_the_spec_shape(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)

    for response in (
        await client.get("/api/profiles/nobody"),
        await client.post("/api/profiles/nobody/follow", headers=auth(settings, user)),
        await client.delete("/api/profiles/nobody/follow", headers=auth(settings, user)),
    ):
        assert response.status_code == 404
        assert response.json() == {"errors": {"profile": ["not found"]}}


async def test_following_needs_a_signed_in_user(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    celeb = await make_user(db_session)

    response = await client.post(f"/api/profiles/{celeb.username}/follow")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
