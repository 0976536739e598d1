"""Exercise 1 (easy): a user's posts.
`make exercise STAGE=stage4-social N=1`"""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from social.config import Settings
from tests.factories import accounts, post

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 1: GET /api/profiles/{username}/posts lists the user's posts, newest first, "
    "in cursor pages (see the README)"
)


async def test_a_users_posts_come_newest_first_in_pages(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    written = [await post(client, ada, f"post {n}") for n in range(5)]
    await post(client, bob, "not Ada's")
    await client.put(f"/api/posts/{written[-1]}/like", headers=bob.headers)

    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 2}
    for _ in range(5):
        page = await client.get(
            f"/api/profiles/{ada.username}/posts", params=params, headers=bob.headers
        )
        assert page.status_code == 200, f"{TODO}: {page.status_code} {page.text}"
        items = page.json()["items"]
        if not seen:
            assert (items[0]["like_count"], items[0]["liked"]) == (1, True), TODO
        seen += [item["id"] for item in items]
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert seen == written[::-1], TODO


async def test_bad_cursors_pages_and_blocks_are_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    await post(client, ada)
    path = f"/api/profiles/{ada.username}/posts"

    forged = await client.get(path, params={"cursor": "%%%"}, headers=bob.headers)
    assert forged.status_code == 400, f"{TODO}: a forged cursor is a 400"
    too_large = await client.get(path, params={"limit": 101}, headers=bob.headers)
    assert too_large.status_code == 422, f"{TODO}: a page is never unbounded"
    unknown = await client.get("/api/profiles/nobody_here/posts", headers=bob.headers)
    assert unknown.status_code == 404, f"{TODO}: an unknown user is a 404"
    assert (await client.get(path)).status_code == 401, f"{TODO}: signed in only"

    await client.put(f"/api/profiles/{bob.username}/block", headers=ada.headers)
    blocked = await client.get(path, headers=bob.headers)
    assert blocked.status_code == 404, f"{TODO}: a user who blocked the caller is a 404"
