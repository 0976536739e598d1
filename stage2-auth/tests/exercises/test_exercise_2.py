"""Exercise 2 (medium): registration that does not reveal accounts.
`make exercise STAGE=stage2-auth N=2`"""

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth import service as auth_service
from roadmap_shared.security.passwords import hash_password
from tests.factories import QueryCounter, emails_to, login, register, unique_email

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 2: POST /auth/register answers 202 with the same body whether or not the "
    "address has an account, and emails its owner instead of answering 409 (see the README)"
)


def shown(response: Response) -> tuple[int, str, bytes]:
    """What a client can tell from an answer (headers like the request id aside)."""
    return response.status_code, response.headers["content-type"], response.content


async def test_a_free_and_a_taken_address_get_the_same_answer(client: AsyncClient) -> None:
    email = unique_email("ada")
    free = await register(client, email)
    taken = await register(client, email, password="another long passphrase")

    assert free.status_code == 202, f"{TODO}: a free address got {free.status_code}"
    assert shown(taken) == shown(free), f"{TODO}: {taken.status_code} {taken.text}"
    # The account behind the first answer exists, with the first password.
    assert (await login(client, email)).status_code == 200
    assert (await login(client, email, "another long passphrase")).status_code == 401


async def test_each_path_queues_exactly_one_email(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    email = unique_email("grace")
    await register(client, email)
    [verification] = await emails_to(db_session, email)
    assert verification.subject == "Confirm your email address"

    taken = await register(client, email, password="another long passphrase")
    assert taken.status_code == 202, f"{TODO}: a taken address got {taken.status_code}"
    emails = await emails_to(db_session, email)
    assert len(emails) == 2, f"{TODO}: the owner of a taken address gets one email"
    notice = emails[1]
    assert notice.subject != verification.subject
    assert "reset" in notice.body.lower(), "the notice says how to reset a forgotten password"
    assert "#token=" not in notice.body, "the notice carries no link that acts on the account"


async def test_a_taken_address_still_costs_a_password_hash_before_its_insert(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch, query_counter: QueryCounter
) -> None:
    await register(client, "taken@example.com")
    hashed: list[str] = []

    async def counting_hash(password: str) -> str:
        hashed.append(password)
        return await hash_password(password)

    monkeypatch.setattr(auth_service, "hash_password", counting_hash)
    with query_counter() as queries:
        response = await register(client, "taken@example.com", password="another long passphrase")
    assert response.status_code == 202, TODO
    assert hashed == ["another long passphrase"]
    # The unique constraint decides, after the hash: no cheaper lookup comes first.
    user_queries = [q for q in queries.statements if "users" in q]
    assert user_queries, str(queries)
    assert user_queries[0].startswith("INSERT INTO users"), str(queries)
