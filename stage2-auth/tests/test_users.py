"""Users: their own profile, and what admins may do to others."""

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import LoginSession
from tests.factories import SignedIn, bearer, create_user, emails_to, login, token_in


async def test_a_user_reads_their_own_profile(client: AsyncClient, alice: SignedIn) -> None:
    response = await client.get("/users/me", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == alice.user.id
    assert body["email"] == alice.email
    assert body["display_name"] == "Alice"
    assert set(body) == {
        "id",
        "email",
        "display_name",
        "role",
        "is_active",
        "email_verified_at",
        "created_at",
    }


async def test_a_user_changes_their_display_name(client: AsyncClient, alice: SignedIn) -> None:
    response = await client.patch(
        "/users/me", headers=alice.headers, json={"display_name": "  Ada  "}
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Ada"
    assert (await client.get("/users/me", headers=alice.headers)).json()["display_name"] == "Ada"


async def test_a_profile_update_takes_a_valid_display_name_and_nothing_else(
    client: AsyncClient, alice: SignedIn
) -> None:
    for body in (
        {"role": "admin"},
        {"email": "new@example.com"},
        {"display_name": ""},
        {"display_name": "nul\x00"},
    ):
        response = await client.patch("/users/me", headers=alice.headers, json=body)
        assert response.status_code == 422, body
    lone_surrogate = await client.patch(
        "/users/me",
        headers={**alice.headers, "Content-Type": "application/json"},
        content=b'{"display_name": "Ada \\ud800"}',
    )
    assert lone_surrogate.status_code == 422


async def test_an_admin_lists_users_a_page_at_a_time(
    client: AsyncClient, admin: SignedIn, alice: SignedIn, bob: SignedIn
) -> None:
    first = await client.get("/users", headers=admin.headers, params={"size": 2})
    assert first.status_code == 200
    page = first.json()
    assert page["total"] == 3
    assert page["pages"] == 2
    ids = [user["id"] for user in page["items"]]
    second = await client.get("/users", headers=admin.headers, params={"size": 2, "page": 2})
    ids += [user["id"] for user in second.json()["items"]]
    assert ids == sorted([admin.user.id, alice.user.id, bob.user.id])


async def test_an_admin_filters_users_by_role_and_status(
    client: AsyncClient, db_session: AsyncSession, admin: SignedIn, alice: SignedIn
) -> None:
    retired = await create_user(db_session, active=False)
    admins = await client.get("/users", headers=admin.headers, params={"role": "admin"})
    assert [u["id"] for u in admins.json()["items"]] == [admin.user.id]
    deactivated = await client.get(
        "/users", headers=admin.headers, params={"status": "deactivated"}
    )
    assert [u["id"] for u in deactivated.json()["items"]] == [retired.id]
    active_users = await client.get(
        "/users", headers=admin.headers, params={"status": "active", "role": "user"}
    )
    assert [u["id"] for u in active_users.json()["items"]] == [alice.user.id]


async def test_list_parameters_are_validated(client: AsyncClient, admin: SignedIn) -> None:
    for params in (
        {"role": "owner"},
        {"status": "asleep"},
        {"size": 101},
        {"page": 0},
        {"page": 10**20},  # an OFFSET beyond PostgreSQL's bigint
    ):
        response = await client.get("/users", headers=admin.headers, params=params)
        assert response.status_code == 422, params


async def test_a_user_who_is_not_an_admin_cannot_list_users(
    client: AsyncClient, alice: SignedIn
) -> None:
    response = await client.get("/users", headers=alice.headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "Only administrators may do this."


async def test_an_admin_reads_a_user_and_gets_404_for_an_unknown_id(
    client: AsyncClient, admin: SignedIn, alice: SignedIn
) -> None:
    found = await client.get(f"/users/{alice.user.id}", headers=admin.headers)
    assert found.json()["email"] == alice.email
    assert (await client.get("/users/999999", headers=admin.headers)).status_code == 404
    assert (await client.get("/users/not-a-number", headers=admin.headers)).status_code == 422


async def test_an_admin_promotes_a_user_who_then_has_admin_rights_at_once(
    client: AsyncClient, admin: SignedIn, alice: SignedIn
) -> None:
    assert (await client.get("/users", headers=alice.headers)).status_code == 403
    response = await client.put(
        f"/users/{alice.user.id}/role", headers=admin.headers, json={"role": "admin"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    # Her existing token: the role is read on each request, not baked into the token.
    assert (await client.get("/users", headers=alice.headers)).status_code == 200


async def test_a_demoted_admin_loses_admin_rights_at_once(
    client: AsyncClient, db_session: AsyncSession, admin: SignedIn
) -> None:
    other_admin = await create_user(db_session, admin=True)
    token = (await login(client, other_admin.email)).json()["access_token"]
    await client.put(f"/users/{other_admin.id}/role", headers=admin.headers, json={"role": "user"})
    assert (await client.get("/users", headers=bearer(token))).status_code == 403


async def test_an_admin_cannot_change_their_own_role_or_deactivate_themselves(
    client: AsyncClient, admin: SignedIn
) -> None:
    demote = await client.put(
        f"/users/{admin.user.id}/role", headers=admin.headers, json={"role": "user"}
    )
    assert demote.status_code == 403
    deactivate = await client.post(f"/users/{admin.user.id}/deactivate", headers=admin.headers)
    assert deactivate.status_code == 403


async def test_deactivating_a_user_ends_their_sessions_and_blocks_sign_in(
    client: AsyncClient, db_session: AsyncSession, admin: SignedIn, alice: SignedIn
) -> None:
    response = await client.post(f"/users/{alice.user.id}/deactivate", headers=admin.headers)
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401
    assert (await login(client, alice.email)).status_code == 403
    reasons = await db_session.scalars(
        select(LoginSession.revoked_reason).where(LoginSession.user_id == alice.user.id)
    )
    assert list(reasons) == ["deactivated"]


async def test_a_reactivated_user_signs_in_again_but_old_sessions_stay_ended(
    client: AsyncClient, admin: SignedIn, alice: SignedIn
) -> None:
    await client.post(f"/users/{alice.user.id}/deactivate", headers=admin.headers)
    response = await client.post(f"/users/{alice.user.id}/reactivate", headers=admin.headers)
    assert response.json()["is_active"] is True
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401
    assert (await login(client, alice.email)).status_code == 200


async def test_a_reset_link_sent_before_a_deactivation_is_void_after_reactivation(
    client: AsyncClient, db_session: AsyncSession, admin: SignedIn, alice: SignedIn
) -> None:
    await client.post("/auth/password-reset", json={"email": alice.email})
    [reset_email] = await emails_to(db_session, alice.email)
    await client.post(f"/users/{alice.user.id}/deactivate", headers=admin.headers)
    await client.post(f"/users/{alice.user.id}/reactivate", headers=admin.headers)
    response = await client.post(
        "/auth/password-reset/confirm",
        json={"token": token_in(reset_email), "new_password": "an intruder's new passphrase"},
    )
    assert response.status_code == 400
    assert (await login(client, alice.email)).status_code == 200


async def test_admin_actions_on_an_unknown_user_are_404(
    client: AsyncClient, admin: SignedIn
) -> None:
    for method, path, body in [
        ("PUT", "/users/999999/role", {"role": "admin"}),
        ("POST", "/users/999999/deactivate", None),
        ("POST", "/users/999999/reactivate", None),
    ]:
        response = await client.request(method, path, headers=admin.headers, json=body)
        assert response.status_code == 404, path


async def test_an_unknown_role_is_a_validation_error(
    client: AsyncClient, admin: SignedIn, alice: SignedIn
) -> None:
    response = await client.put(
        f"/users/{alice.user.id}/role", headers=admin.headers, json={"role": "superuser"}
    )
    assert response.status_code == 422
