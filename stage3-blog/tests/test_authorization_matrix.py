"""Who may call what: every route of the app, for each of (anonymous, author, other user, moderator,
admin). The routes are discovered from the app itself, so an endpoint added without a row
here fails `test_every_route_has_a_row`.

"author" is the user who wrote the article and the comment in the path, and whose profile
or account the path names.
"""

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.models import Role
from tests.factories import PASSWORD, auth, make_article, make_comment, make_user

ACTORS = ("anonymous", "author", "other", "moderator", "admin")


@dataclass(frozen=True)
class Row:
    anonymous: int
    author: int
    other: int
    moderator: int
    admin: int
    body: dict[str, Any] | None = None
    # Needs a writer: a suspended account gets 403 whatever its role.
    writes: bool = False
    expected: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        statuses = [self.anonymous, self.author, self.other, self.moderator, self.admin]
        object.__setattr__(self, "expected", dict(zip(ACTORS, statuses, strict=True)))


def everyone(status: int, body: dict[str, Any] | None = None) -> Row:
    return Row(status, status, status, status, status, body)


def signed_in(status: int, body: dict[str, Any] | None = None, *, writes: bool = True) -> Row:
    return Row(401, status, status, status, status, body, writes)


ARTICLE = {"article": {"title": "A title", "description": "About it", "body": "The text"}}

MATRIX: dict[tuple[str, str], Row] = {
    # The RealWorld spec
    ("POST", "/api/users/login"): everyone(
        200, {"user": {"email": "author@example.com", "password": PASSWORD}}
    ),
    ("POST", "/api/users"): everyone(
        201, {"user": {"username": "newbie", "email": "new@example.com", "password": "x" * 8}}
    ),
    ("GET", "/api/user"): signed_in(200, writes=False),
    ("PUT", "/api/user"): signed_in(200, {"user": {"bio": "Updated."}}),
    ("GET", "/api/profiles/{username}"): everyone(200),
    # Following oneself is refused (403); unfollowing oneself is a harmless no-op.
    ("POST", "/api/profiles/{username}/follow"): Row(401, 403, 200, 200, 200, writes=True),
    ("DELETE", "/api/profiles/{username}/follow"): signed_in(200),
    ("GET", "/api/articles"): everyone(200),
    ("POST", "/api/articles"): signed_in(201, ARTICLE),
    ("GET", "/api/articles/feed"): signed_in(200, writes=False),
    ("GET", "/api/articles/{slug}"): everyone(200),
    # Only the author edits; moderators and admins delete but never rewrite.
    ("PUT", "/api/articles/{slug}"): Row(
        401, 200, 403, 403, 403, {"article": {"body": "Edited."}}, writes=True
    ),
    ("DELETE", "/api/articles/{slug}"): Row(401, 204, 403, 204, 204, writes=True),
    ("POST", "/api/articles/{slug}/favorite"): signed_in(200),
    ("DELETE", "/api/articles/{slug}/favorite"): signed_in(200),
    ("GET", "/api/articles/{slug}/comments"): everyone(200),
    ("POST", "/api/articles/{slug}/comments"): signed_in(201, {"comment": {"body": "Hi"}}),
    ("DELETE", "/api/articles/{slug}/comments/{comment_id}"): Row(
        401, 204, 403, 204, 204, writes=True
    ),
    ("GET", "/api/tags"): everyone(200),
    # Moderation: staff act on accounts ranked below them; only admins change roles.
    ("PUT", "/admin/users/{username}/suspension"): Row(401, 403, 403, 200, 200, writes=True),
    ("DELETE", "/admin/users/{username}/suspension"): Row(401, 403, 403, 200, 200, writes=True),
    ("PUT", "/admin/users/{username}/role"): Row(
        401, 403, 403, 403, 200, {"role": "moderator"}, writes=True
    ),
    # Operations and documentation
    ("GET", "/healthz"): everyone(200),
    ("GET", "/readyz"): everyone(200),
    ("GET", "/metrics"): everyone(200),  # for the monitoring network; the proxy guards it
    ("GET", "/openapi.json"): everyone(200),
    ("GET", "/docs"): everyone(200),
    ("GET", "/docs/oauth2-redirect"): everyone(200),
    ("GET", "/redoc"): everyone(200),
}


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    # iter_route_contexts flattens included routers, which `app.routes` keeps nested. The
    # path as documented: `/api/articles/{slug}`, not its `{slug:slug}` pattern.
    return {
        (method, str(route.path_format or route.path))
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if method != "HEAD"
    }


def test_every_route_has_a_row(app: FastAPI) -> None:
    discovered = routes_of(app)

    assert discovered - set(MATRIX) == set(), "routes without a row in MATRIX"
    assert set(MATRIX) - discovered == set(), "rows for routes that no longer exist"


@dataclass(frozen=True)
class World:
    headers: dict[str, dict[str, str]]
    path_values: dict[str, str]


@pytest.fixture
async def world(db_session: AsyncSession, settings: Settings) -> World:
    author = await make_user(db_session, "author")
    users = {
        "author": author,
        "other": await make_user(db_session, "other"),
        "moderator": await make_user(db_session, "moderator", role=Role.MODERATOR),
        "admin": await make_user(db_session, "admin", role=Role.ADMIN),
        "suspended admin": await make_user(db_session, role=Role.ADMIN, suspended=True),
    }
    article = await make_article(db_session, author)
    comment = await make_comment(db_session, article, author)
    return World(
        headers={"anonymous": {}} | {name: auth(settings, user) for name, user in users.items()},
        path_values={
            "slug": article.slug,
            "username": author.username,
            "comment_id": str(comment.id),
        },
    )


@pytest.mark.parametrize(
    ("method", "path", "actor"),
    [(method, path, actor) for (method, path) in MATRIX for actor in ACTORS],
)
async def test_each_actor_gets_the_status_its_row_says(
    client: AsyncClient, world: World, method: str, path: str, actor: str
) -> None:
    row = MATRIX[(method, path)]

    response = await client.request(
        method, path.format(**world.path_values), json=row.body, headers=world.headers[actor]
    )

    assert response.status_code == row.expected[actor], response.text


@pytest.mark.parametrize(("method", "path"), [route for route, row in MATRIX.items() if row.writes])
async def test_a_suspended_account_cannot_write_whatever_its_role(
    client: AsyncClient, world: World, method: str, path: str
) -> None:
    row = MATRIX[(method, path)]

    response = await client.request(
        method,
        path.format(**world.path_values),
        json=row.body,
        headers=world.headers["suspended admin"],
    )

    assert response.status_code == 403
    assert "suspended" in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [route for route in MATRIX if "{slug}" in route[1] or "{username}" in route[1]],
)
async def test_a_path_naming_nothing_is_a_404_even_for_an_admin(
    client: AsyncClient, world: World, method: str, path: str
) -> None:
    row = MATRIX[(method, path)]
    nowhere = world.path_values | {"slug": "no-such-article", "username": "no-such-user"}

    response = await client.request(
        method, path.format(**nowhere), json=row.body, headers=world.headers["admin"]
    )

    assert response.status_code == 404
    if path.startswith("/api/"):
        assert list(response.json()["errors"]) in (["article"], ["profile"])
    else:
        assert response.headers["content-type"] == "application/problem+json"
