"""Sign-up and sign-in: the conventions of stage3-microservices' orders service."""

from httpx import AsyncClient

from tests.payments.factories import PASSWORD

GRACE = {"email": "Grace@Example.com", "name": "Grace", "password": PASSWORD}


async def test_a_customer_signs_up_signs_in_and_is_known_by_the_token(
    committing_client: AsyncClient,
) -> None:
    registered = await committing_client.post("/auth/register", json=GRACE)
    assert registered.status_code == 201
    assert registered.headers["Cache-Control"] == "no-store"
    assert registered.json()["email"] == "grace@example.com"
    assert registered.json()["role"] == "customer"
    assert "password" not in registered.text

    login = await committing_client.post(
        "/auth/login", json={"email": "grace@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    token = login.json()["access_token"]
    me = await committing_client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["id"] == registered.json()["id"]


async def test_an_email_signs_up_once(committing_client: AsyncClient) -> None:
    assert (await committing_client.post("/auth/register", json=GRACE)).status_code == 201
    again = await committing_client.post(
        "/auth/register", json=GRACE | {"email": "grace@EXAMPLE.com"}
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_a_wrong_password_or_email_is_the_same_401(committing_client: AsyncClient) -> None:
    await committing_client.post("/auth/register", json=GRACE)
    wrong_password = await committing_client.post(
        "/auth/login", json={"email": GRACE["email"], "password": "not the password at all"}
    )
    no_such_email = await committing_client.post(
        "/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert wrong_password.status_code == no_such_email.status_code == 401
    assert wrong_password.json()["detail"] == no_such_email.json()["detail"]


async def test_bad_sign_ups_are_422(committing_client: AsyncClient) -> None:
    for body in [
        GRACE | {"email": "not-an-email"},
        GRACE | {"password": "short"},
        GRACE | {"name": ""},
        {"email": GRACE["email"]},
    ]:
        answer = await committing_client.post("/auth/register", json=body)
        assert answer.status_code == 422, body


async def test_a_token_naming_no_customer_is_401(committing_client: AsyncClient) -> None:
    for token in ["", "abc", "a.b.c"]:
        answer = await committing_client.get(
            "/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 401
