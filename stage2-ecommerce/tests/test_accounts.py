from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.hostile_input import access_token, forged_subjects
from shop.config import Settings
from tests.factories import PASSWORD, auth, make_user

NEW_USER = {"email": "Grace@Example.com", "name": "Grace Hopper", "password": PASSWORD}


async def test_a_visitor_registers_as_a_customer(client: AsyncClient) -> None:
    response = await client.post("/auth/register", json=NEW_USER)

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "grace@example.com"  # stored lower-cased
    assert body["role"] == "customer"
    assert "password" not in str(body)


async def test_an_email_can_only_register_once_whatever_its_case(client: AsyncClient) -> None:
    await client.post("/auth/register", json=NEW_USER)

    response = await client.post("/auth/register", json={**NEW_USER, "email": "GRACE@example.com"})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_short_password_or_bad_email_is_refused(client: AsyncClient) -> None:
    short = await client.post("/auth/register", json={**NEW_USER, "password": "short"})
    not_email = await client.post("/auth/register", json={**NEW_USER, "email": "grace"})

    assert short.status_code == 422
    assert short.json()["errors"][0]["loc"] == ["body", "password"]
    assert not_email.status_code == 422


@pytest.mark.parametrize("email", ["grace@shop.test", "grace@mail.invalid", "grace@printer.local"])
async def test_an_address_no_mail_can_reach_is_refused_as_the_document_says(
    client: AsyncClient, email: str
) -> None:
    registered = await client.post("/auth/register", json={**NEW_USER, "email": email})
    logged_in = await client.post("/auth/login", json={"email": email, "password": PASSWORD})

    document = (await client.get("/openapi.json")).json()["components"]["schemas"]
    top_level_domain = email.rsplit(".", 1)[1]
    for response, schema in ((registered, "RegisterRequest"), (logged_in, "LoginRequest")):
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "email"]
        description = document[schema]["properties"]["email"]["description"]
        assert f"`.{top_level_domain}`" in description


async def test_a_registered_user_logs_in_and_sees_themselves(client: AsyncClient) -> None:
    await client.post("/auth/register", json=NEW_USER)

    login = await client.post(
        "/auth/login", json={"email": "grace@EXAMPLE.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    token = login.json()["access_token"]
    assert login.json()["token_type"] == "bearer"

    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["name"] == "Grace Hopper"


async def test_a_wrong_password_and_an_unknown_email_get_the_same_401(client: AsyncClient) -> None:
    await client.post("/auth/register", json=NEW_USER)

    wrong_password = await client.post(
        "/auth/login", json={"email": NEW_USER["email"], "password": "not the password"}
    )
    unknown = await client.post(
        "/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )

    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.json()["detail"] == unknown.json()["detail"]


async def test_me_needs_a_valid_token(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    expired = auth(settings, user, lifetime=timedelta(seconds=-1))

    missing = await client.get("/auth/me")
    garbage = await client.get("/auth/me", headers={"Authorization": "Bearer not-a-jwt"})
    wrong_scheme = await client.get("/auth/me", headers={"Authorization": "Basic abc"})
    too_old = await client.get("/auth/me", headers=expired)

    for response in (missing, garbage, wrong_scheme, too_old):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_for_a_deleted_user_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    headers = auth(settings, user)
    await db_session.delete(user)
    await db_session.flush()

    response = await client.get("/auth/me", headers=headers)

    assert response.status_code == 401


async def test_password_guessing_is_slowed_down_per_account(
    client: AsyncClient, settings: Settings
) -> None:
    attempt = {"email": "target@example.com", "password": "guess-guess-guess"}
    for _ in range(settings.login_attempts_per_minute):
        assert (await client.post("/auth/login", json=attempt)).status_code == 401

    refused = await client.post("/auth/login", json=attempt)
    other_account = await client.post("/auth/login", json={**attempt, "email": "a@example.com"})

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "ratelimit-policy" in refused.headers
    assert other_account.status_code == 401


@forged_subjects()
async def test_a_token_whose_subject_is_not_a_user_id_is_refused(
    client: AsyncClient, settings: Settings, subject: str
) -> None:
    forged_subject = access_token(settings.token_codec(), subject)
    wrong_type = settings.token_codec().encode(
        subject="1", token_type="refresh", lifetime=timedelta(minutes=5)
    )

    for token in (forged_subject, wrong_type.token):
        response = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
