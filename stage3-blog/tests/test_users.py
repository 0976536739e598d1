"""Registration, login and the current user, as the RealWorld spec defines them."""

import re
from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE, TokenCodec
from tests.factories import PASSWORD, auth, make_user


def registration(username: str = "jake", email: str = "jake@jake.jake") -> dict[str, object]:
    return {"user": {"username": username, "email": email, "password": "jakejakejake"}}


async def test_registering_returns_the_user_with_a_token_that_works(client: AsyncClient) -> None:
    response = await client.post("/api/users", json=registration())

    assert response.status_code == 201
    user = response.json()["user"]
    assert user == {
        "email": "jake@jake.jake",
        "token": user["token"],
        "username": "jake",
        "bio": None,
        "image": None,
    }
    me = await client.get("/api/user", headers={"Authorization": f"Token {user['token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "jake"


async def test_a_taken_username_or_email_is_refused_in_the_spec_error_shape(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_user(db_session, "jake")

    taken_name = await client.post("/api/users", json=registration("jake", "other@x.io"))
    taken_email = await client.post("/api/users", json=registration("other", "JAKE@example.com"))

    # Spec v2: a conflict is a 409 (v1 said 422).
    assert taken_name.status_code == 409
    assert taken_name.json() == {"errors": {"username": ["has already been taken"]}}
    assert taken_email.status_code == 409
    assert taken_email.json() == {"errors": {"email": ["has already been taken"]}}


async def test_missing_and_invalid_fields_are_reported_per_field(client: AsyncClient) -> None:
    response = await client.post(
        "/api/users", json={"user": {"username": "a b", "email": "not-an-email", "password": "x"}}
    )

    # Our words, never a pattern or a library's ("An email address must have an @-sign").
    assert response.status_code == 422
    assert response.json() == {
        "errors": {
            "username": ["is invalid"],
            "email": ["is invalid"],
            "password": ["is too short (minimum is 8 characters)"],
        }
    }


async def test_a_username_is_checked_as_sent_as_the_document_pattern_says(
    client: AsyncClient,
) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    pattern = schemas["NewUser"]["properties"]["username"]["pattern"]

    response = await client.post("/api/users", json=registration(username=" jake"))

    assert re.search(pattern, " jake") is None
    assert response.status_code == 422
    assert response.json() == {"errors": {"username": ["is invalid"]}}


@pytest.mark.parametrize("blank", ["", "   ", None])
async def test_blank_registration_fields_cant_be_blank(
    client: AsyncClient, blank: str | None
) -> None:
    response = await client.post(
        "/api/users", json={"user": {"username": blank, "email": blank, "password": blank}}
    )

    assert response.status_code == 422
    assert response.json() == {
        "errors": {
            "username": ["can't be blank"],
            "email": ["can't be blank"],
            "password": ["can't be blank"],
        }
    }


async def test_a_body_without_its_envelope_is_refused(client: AsyncClient) -> None:
    response = await client.post("/api/users", json={"username": "jake"})

    assert response.status_code == 422
    assert response.json() == {"errors": {"user": ["can't be blank"]}}


async def test_logging_in_with_the_right_password_returns_a_token(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_user(db_session, "jake")

    response = await client.post(
        "/api/users/login", json={"user": {"email": "JAKE@example.com", "password": PASSWORD}}
    )

    assert response.status_code == 200
    assert response.json()["user"]["email"] == "jake@example.com"
    assert response.json()["user"]["token"]


async def test_a_wrong_password_and_an_unknown_email_get_the_same_401(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_user(db_session, "jake")

    wrong_password = await client.post(
        "/api/users/login", json={"user": {"email": "jake@example.com", "password": "nope"}}
    )
    unknown_email = await client.post(
        "/api/users/login", json={"user": {"email": "who@example.com", "password": PASSWORD}}
    )

    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Token"
        assert response.json() == {"errors": {"credentials": ["invalid"]}}


async def test_the_current_user_needs_a_token_in_the_token_scheme(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    token = auth(settings, user)["Authorization"].removeprefix("Token ")

    missing = await client.get("/api/user")
    bearer = await client.get("/api/user", headers={"Authorization": f"Bearer {token}"})
    forged = await client.get("/api/user", headers={"Authorization": f"Token {token}x"})

    assert missing.status_code == 401
    assert missing.json() == {"errors": {"token": ["is missing"]}}
    for response in (bearer, forged):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Token"
        assert response.json() == {"errors": {"token": ["is invalid or expired"]}}


async def test_updating_the_user_changes_only_what_is_sent(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session, "jake", bio="old bio")

    response = await client.put(
        "/api/user",
        json={"user": {"image": "https://example.com/jake.png"}},
        headers=auth(settings, user),
    )

    assert response.status_code == 200
    assert response.json()["user"] | {"token": "-"} == {
        "email": "jake@example.com",
        "token": "-",
        "username": "jake",
        "bio": "old bio",
        "image": "https://example.com/jake.png",
    }


async def test_a_new_password_works_at_the_next_login(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session, "jake")

    await client.put(
        "/api/user", json={"user": {"password": "a brand new one"}}, headers=auth(settings, user)
    )
    login = await client.post(
        "/api/users/login",
        json={"user": {"email": "jake@example.com", "password": "a brand new one"}},
    )

    assert login.status_code == 200


async def test_an_update_cannot_take_another_users_email(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session, "jake")
    await make_user(db_session, "celeb")

    response = await client.put(
        "/api/user", json={"user": {"email": "celeb@example.com"}}, headers=auth(settings, user)
    )

    assert response.status_code == 409
    assert response.json() == {"errors": {"email": ["has already been taken"]}}


async def test_an_empty_update_or_an_unsafe_image_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)

    empty = await client.put("/api/user", json={"user": {}}, headers=auth(settings, user))
    script = await client.put(
        "/api/user", json={"user": {"image": "javascript:alert(1)"}}, headers=auth(settings, user)
    )

    assert empty.status_code == 422
    assert empty.json() == {"errors": {"user": ["must have at least one field to change"]}}
    assert script.status_code == 422
    assert list(script.json()["errors"]) == ["image"]


async def test_reading_or_updating_the_user_returns_the_token_sent_not_a_new_one(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    headers = auth(settings, await make_user(db_session))
    presented = headers["Authorization"].removeprefix("Token ")

    read = await client.get("/api/user", headers=headers)
    updated = await client.put("/api/user", json={"user": {"bio": "New."}}, headers=headers)

    # A fresh token on every read would let whoever holds a leaked one renew it forever.
    assert read.json()["user"]["token"] == presented
    assert updated.json()["user"]["token"] == presented


async def test_a_token_signed_for_another_service_is_refused_even_with_the_same_key(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    # Another service of the project (the shop), signing with the same key.
    elsewhere = TokenCodec(
        keys={kid: key.get_secret_value() for kid, key in settings.jwt_keys.items()},
        active_kid=settings.jwt_active_kid,
        issuer="shop",
        audience="shop",
    )
    token = elsewhere.encode(
        subject=str(user.id), token_type=ACCESS_TOKEN_TYPE, lifetime=timedelta(minutes=5)
    ).token

    response = await client.get("/api/user", headers={"Authorization": f"Token {token}"})

    assert response.status_code == 401
    assert response.json() == {"errors": {"token": ["is invalid or expired"]}}


async def test_an_update_made_only_of_nulls_for_required_fields_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)

    response = await client.put(
        "/api/user",
        json={"user": {"username": None, "email": None, "password": None}},
        headers=auth(settings, user),
    )

    # Every account has these: null cannot clear them, and the document says so.
    assert response.status_code == 422
    assert response.json() == {
        "errors": {
            "username": ["can't be blank"],
            "email": ["can't be blank"],
            "password": ["can't be blank"],
        }
    }


async def test_null_clears_the_bio_and_the_image(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session, bio="Old bio")

    response = await client.put(
        "/api/user", json={"user": {"bio": None, "image": None}}, headers=auth(settings, user)
    )

    assert response.status_code == 200
    assert (response.json()["user"]["bio"], response.json()["user"]["image"]) == (None, None)
