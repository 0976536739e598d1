"""Moderation, beyond the spec: suspending accounts and changing roles."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.models import Role
from tests.factories import auth, make_article, make_user

PROBLEM = "application/problem+json"


async def test_a_moderator_can_suspend_a_user_and_lift_it(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    moderator = await make_user(db_session, role=Role.MODERATOR)
    user = await make_user(db_session, "troll")

    suspended = await client.put("/admin/users/troll/suspension", headers=auth(settings, moderator))
    lifted = await client.delete("/admin/users/troll/suspension", headers=auth(settings, moderator))

    assert suspended.status_code == 200
    assert suspended.json()["username"] == user.username
    assert suspended.json()["suspended_at"] is not None
    assert lifted.status_code == 200
    assert lifted.json() == {"username": "troll", "role": "user", "suspended_at": None}


async def test_a_suspended_user_can_read_but_not_write(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session, suspended=True)
    article = await make_article(db_session, await make_user(db_session))
    headers = auth(settings, user)

    read = await client.get(f"/api/articles/{article.slug}", headers=headers)
    feed = await client.get("/api/articles/feed", headers=headers)
    write = await client.post(
        f"/api/articles/{article.slug}/comments", json={"comment": {"body": "hi"}}, headers=headers
    )

    assert read.status_code == 200
    assert feed.status_code == 200
    assert write.status_code == 403
    assert write.json() == {"errors": {"account": ["is suspended: you can read, but not write"]}}


@pytest.mark.parametrize(
    ("actor_role", "target_role"),
    [
        (Role.MODERATOR, Role.MODERATOR),
        (Role.MODERATOR, Role.ADMIN),
        (Role.ADMIN, Role.ADMIN),
    ],
)
async def test_staff_cannot_suspend_their_equals_or_superiors(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    actor_role: Role,
    target_role: Role,
) -> None:
    actor = await make_user(db_session, role=actor_role)
    target = await make_user(db_session, role=target_role)

    response = await client.put(
        f"/admin/users/{target.username}/suspension", headers=auth(settings, actor)
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == f"A {actor_role} cannot moderate a {target_role}."


async def test_an_admin_can_suspend_a_moderator(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    admin = await make_user(db_session, role=Role.ADMIN)
    moderator = await make_user(db_session, role=Role.MODERATOR)

    response = await client.put(
        f"/admin/users/{moderator.username}/suspension", headers=auth(settings, admin)
    )

    assert response.status_code == 200


async def test_only_an_admin_can_change_roles(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    admin = await make_user(db_session, role=Role.ADMIN)
    moderator = await make_user(db_session, role=Role.MODERATOR)
    user = await make_user(db_session)
    url = f"/admin/users/{user.username}/role"

    by_moderator = await client.put(
        url, json={"role": "moderator"}, headers=auth(settings, moderator)
    )
    by_admin = await client.put(url, json={"role": "moderator"}, headers=auth(settings, admin))

    assert by_moderator.status_code == 403
    assert by_moderator.json()["detail"] == "role must be admin"
    assert by_admin.status_code == 200
    assert by_admin.json()["role"] == "moderator"


async def test_only_staff_can_suspend(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    await make_user(db_session, "neighbour")

    response = await client.put("/admin/users/neighbour/suspension", headers=auth(settings, user))

    assert response.status_code == 403
    assert response.json()["detail"] == "role must be moderator or admin"


async def test_an_admin_cannot_change_their_own_role(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    admin = await make_user(db_session, role=Role.ADMIN)

    response = await client.put(
        f"/admin/users/{admin.username}/role", json={"role": "user"}, headers=auth(settings, admin)
    )

    assert response.status_code == 403


async def test_moderation_errors_are_problems_not_the_spec_shape(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    admin = await make_user(db_session, role=Role.ADMIN)

    anonymous = await client.put("/admin/users/nobody/suspension")
    unknown = await client.put("/admin/users/nobody/suspension", headers=auth(settings, admin))
    invalid = await client.put(
        "/admin/users/nobody/role", json={"role": "emperor"}, headers=auth(settings, admin)
    )

    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Token"
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "There is no user 'nobody'."
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["loc"] == ["body", "role"]
    for response in (anonymous, unknown, invalid):
        assert response.headers["content-type"] == PROBLEM
