"""Tasks: owned by their creator, invisible (404) to everyone else, readable by admins;
filtered, sorted and paged with a cursor, tags included, in a fixed number of queries."""

import json
from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import Tag, TaskPriority, TaskStatus
from roadmap_shared.pagination import encode_cursor
from tests.factories import QueryCounter, SignedIn, create_task


async def list_tasks(client: AsyncClient, who: SignedIn, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/tasks", headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def titles(items: list[dict[str, Any]]) -> list[str]:
    return [item["title"] for item in items]


async def test_a_user_creates_a_task(client: AsyncClient, alice: SignedIn) -> None:
    response = await client.post(
        "/tasks",
        headers=alice.headers,
        json={
            "title": "  Write the report  ",
            "notes": "Sections 1 to 3",
            "priority": "high",
            "due_date": "2026-12-01",
            "tags": ["Work", "urgent", "work "],
        },
    )
    assert response.status_code == 201
    task = response.json()
    assert task["title"] == "Write the report"
    assert task["status"] == "todo"
    assert task["priority"] == "high"
    assert task["due_date"] == "2026-12-01"
    assert task["tags"] == ["urgent", "work"]  # trimmed, lower-cased, distinct, sorted
    assert task["owner_id"] == alice.user.id
    got = await client.get(f"/tasks/{task['id']}", headers=alice.headers)
    assert got.json() == task


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 201},
        {"title": "ok", "status": "someday"},
        {"title": "ok", "priority": "urgent"},
        {"title": "ok", "due_date": "tomorrow"},
        {"title": "ok", "tags": ["x"] * 21},
        {"title": "ok", "tags": ["x" * 51]},
        {"title": "ok", "notes": "x" * 10_001},
        {"title": "ok", "owner_id": 1},
        # PostgreSQL text cannot hold NUL: refused as invalid, not failed as a 500.
        {"title": "a\x00b"},
        {"title": "ok", "notes": "\x00"},
        {"title": "ok", "tags": ["a\x00"]},
        # 26 characters, but 52 once lower-cased ("İ" becomes "i̇"): too long to store.
        {"title": "ok", "tags": ["\u0130" * 26]},
    ],
)
async def test_an_invalid_task_is_refused(
    client: AsyncClient, alice: SignedIn, body: dict[str, Any]
) -> None:
    response = await client.post("/tasks", headers=alice.headers, json=body)
    assert response.status_code == 422
    assert response.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [{"title": "a\ud800"}, {"title": "ok", "notes": "\udfff"}, {"title": "ok", "tags": ["\ud800"]}],
)
async def test_text_that_is_not_valid_unicode_is_refused(
    client: AsyncClient, alice: SignedIn, body: dict[str, Any]
) -> None:
    # JSON can spell a lone surrogate (json.dumps writes it as an escape); UTF-8, and so
    # PostgreSQL, has no way to store one.
    response = await client.post(
        "/tasks",
        content=json.dumps(body).encode(),
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"]


async def test_a_tag_is_as_long_as_it_is_once_lower_cased(
    client: AsyncClient, alice: SignedIn
) -> None:
    response = await client.post(
        "/tasks", headers=alice.headers, json={"title": "ok", "tags": ["\u0130" * 25]}
    )
    assert response.status_code == 201
    assert response.json()["tags"] == ["i\u0307" * 25]


async def test_tags_belong_to_their_owner(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn, bob: SignedIn
) -> None:
    for who in (alice, bob, alice):
        await client.post("/tasks", headers=who.headers, json={"title": "t", "tags": ["home"]})
    count = await db_session.scalar(select(func.count()).select_from(Tag).where(Tag.name == "home"))
    assert count == 2  # one per owner, reused by the owner's second task


async def test_a_user_updates_some_fields_of_their_task(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    task = await create_task(
        db_session, alice.user, due_date=date(2026, 12, 1), tags=("home", "garden")
    )
    response = await client.patch(
        f"/tasks/{task.id}",
        headers=alice.headers,
        json={"status": "done", "due_date": None, "tags": ["garden", "weekend"]},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done"
    assert body["due_date"] is None
    assert body["tags"] == ["garden", "weekend"]
    assert body["title"] == task.title  # untouched
    assert body["updated_at"] > body["created_at"]


async def test_fields_that_always_have_a_value_cannot_be_nulled(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    task = await create_task(db_session, alice.user)
    for field in ("title", "status", "priority", "notes", "tags"):
        response = await client.patch(
            f"/tasks/{task.id}", headers=alice.headers, json={field: None}
        )
        assert response.status_code == 422, field


async def test_a_user_deletes_their_task(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    task = await create_task(db_session, alice.user, tags=("home",))
    assert (await client.delete(f"/tasks/{task.id}", headers=alice.headers)).status_code == 204
    assert (await client.get(f"/tasks/{task.id}", headers=alice.headers)).status_code == 404


async def test_another_users_task_is_not_found_whatever_they_try(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn, bob: SignedIn
) -> None:
    task = await create_task(db_session, alice.user)
    missing = await client.get("/tasks/999999", headers=bob.headers)
    for method, body in [("GET", None), ("PATCH", {"title": "mine now"}), ("DELETE", None)]:
        response = await client.request(method, f"/tasks/{task.id}", headers=bob.headers, json=body)
        assert response.status_code == 404, method
        # Word for word the answer for a task that does not exist: the id reveals nothing.
        assert response.json() == missing.json()
    assert (await client.get(f"/tasks/{task.id}", headers=alice.headers)).json()["title"] == (
        task.title
    )


async def test_a_user_lists_only_their_own_tasks(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn, bob: SignedIn
) -> None:
    await create_task(db_session, alice.user, title="Alice's")
    await create_task(db_session, bob.user, title="Bob's")
    assert titles(await list_tasks(client, alice)) == ["Alice's"]
    forbidden = await client.get("/tasks", headers=alice.headers, params={"owner_id": bob.user.id})
    assert forbidden.status_code == 403


async def test_an_admin_reads_anyones_tasks_but_changes_only_their_own(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn, admin: SignedIn
) -> None:
    task = await create_task(db_session, alice.user, title="Alice's")
    assert (await client.get(f"/tasks/{task.id}", headers=admin.headers)).status_code == 200
    assert titles(await list_tasks(client, admin, owner_id=alice.user.id)) == ["Alice's"]
    assert titles(await list_tasks(client, admin)) == []  # their own list, by default
    patch = await client.patch(f"/tasks/{task.id}", headers=admin.headers, json={"title": "x"})
    assert patch.status_code == 403
    assert (await client.delete(f"/tasks/{task.id}", headers=admin.headers)).status_code == 403


async def test_tasks_are_filtered(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    await create_task(
        db_session,
        alice.user,
        title="Pay rent",
        priority=TaskPriority.HIGH,
        due_date=date(2026, 12, 1),
        tags=("home", "money"),
    )
    await create_task(
        db_session,
        alice.user,
        title="Book dentist",
        notes="Ask about 50% discount",
        status=TaskStatus.DONE,
        due_date=date(2026, 11, 20),
    )
    await create_task(db_session, alice.user, title="Read a book", priority=TaskPriority.LOW)

    def query(**params: Any) -> Any:
        return list_tasks(client, alice, sort="title", **params)

    assert titles(await query(status="done")) == ["Book dentist"]
    assert titles(await query(priority="high")) == ["Pay rent"]
    assert titles(await query(tag="HOME")) == ["Pay rent"]
    assert titles(await query(due_before="2026-12-01")) == ["Book dentist"]
    assert titles(await query(due_after="2026-11-20")) == ["Pay rent"]
    assert titles(await query(q="BOOK")) == ["Book dentist", "Read a book"]
    assert titles(await query(q="50%")) == ["Book dentist"]  # notes, and % is literal
    assert titles(await query(q="%")) == ["Book dentist"]
    assert titles(await query(status="todo", priority="low")) == ["Read a book"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["a", "b", "c", "d"]),
        ("-title", ["d", "c", "b", "a"]),
        ("priority", ["c", "b", "d", "a"]),  # low, medium, high; ties by id
        ("-priority", ["a", "d", "b", "c"]),
        ("due_date", ["b", "a", "d", "c"]),  # no due date sorts last; ties by id
        ("-due_date", ["c", "d", "a", "b"]),
        ("created_at", ["d", "b", "a", "c"]),
        ("-created_at", ["c", "a", "b", "d"]),
    ],
)
async def test_tasks_are_sorted(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn, sort: str, expected: list[str]
) -> None:
    await create_task(db_session, alice.user, title="d", priority=TaskPriority.HIGH)
    await create_task(db_session, alice.user, title="b", due_date=date(2026, 1, 1))
    await create_task(
        db_session, alice.user, title="a", priority=TaskPriority.HIGH, due_date=date(2026, 2, 1)
    )
    await create_task(db_session, alice.user, title="c", priority=TaskPriority.LOW)
    assert titles(await list_tasks(client, alice, sort=sort)) == expected


@pytest.mark.parametrize("sort", ["-created_at", "title", "priority", "-due_date"])
async def test_cursor_pages_cover_every_task_once_in_order(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn, sort: str
) -> None:
    for n in range(7):
        await create_task(
            db_session,
            alice.user,
            title=f"task {n % 3}",  # duplicate sort keys: the id must break the ties
            priority=list(TaskPriority)[n % 3],
            due_date=date(2026, 1, 1 + n % 2) if n % 4 else None,
        )
    everything = titles(await list_tasks(client, alice, sort=sort, limit=100))
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/tasks", headers=alice.headers, params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7
    assert len({item["id"] for item in seen}) == 7
    assert titles(seen) == everything


async def test_a_page_that_is_not_full_has_no_next_cursor(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    await create_task(db_session, alice.user)
    page = (await client.get("/tasks", headers=alice.headers, params={"limit": 1})).json()
    assert len(page["items"]) == 1
    assert page["next_cursor"] is None


@pytest.mark.parametrize(
    ("sort", "position"),
    [
        ("title", {"sort": "title"}),  # no key, no id
        ("-created_at", {"sort": "-created_at", "key": "not a date", "id": 1}),
        ("-created_at", {"sort": "-created_at", "key": "2026-01-01T00:00:00", "id": 1}),  # no zone
        ("due_date", {"sort": "due_date", "key": "2026-13-01", "id": 1}),
        ("priority", {"sort": "priority", "key": "urgent", "id": 1}),
        ("title", {"sort": "title", "key": ["a", "list"], "id": 1}),
        ("title", {"sort": "title", "key": "a", "id": 10**30}),  # beyond PostgreSQL integer
        ("title", {"sort": "title", "key": "a", "id": "1"}),
        ("title", {"sort": "title", "key": "a", "id": 1.5}),
        # Keys no stored task can have, which the database would refuse outright:
        ("title", {"sort": "title", "key": "a\x00", "id": 1}),
        ("title", {"sort": "title", "key": "a\ud800", "id": 1}),
        ("title", {"sort": "title", "key": "a" * 201, "id": 1}),
        # Valid timestamps, but in UTC they fall in year 10000 or year 0.
        ("-created_at", {"sort": "-created_at", "key": "9999-12-31T23:59:59-05:00", "id": 1}),
        ("-created_at", {"sort": "-created_at", "key": "0001-01-01T00:00:00+05:00", "id": 1}),
    ],
)
async def test_a_forged_cursor_is_a_client_error(
    client: AsyncClient, alice: SignedIn, sort: str, position: dict[str, Any]
) -> None:
    response = await client.get(
        "/tasks", headers=alice.headers, params={"sort": sort, "cursor": encode_cursor(position)}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_cursor_that_is_not_base64_json_is_a_client_error(
    client: AsyncClient, alice: SignedIn
) -> None:
    response = await client.get("/tasks", headers=alice.headers, params={"cursor": "not a cursor"})
    assert response.status_code == 400


async def test_ids_out_of_range_are_validation_errors_not_server_errors(
    client: AsyncClient, alice: SignedIn, admin: SignedIn
) -> None:
    for path in ("/tasks/0", "/tasks/-1", "/tasks/99999999999", "/tasks/abc"):
        assert (await client.get(path, headers=alice.headers)).status_code == 422, path
    assert (await client.get("/users/99999999999", headers=admin.headers)).status_code == 422
    owner = await client.get("/tasks", headers=admin.headers, params={"owner_id": 99999999999})
    assert owner.status_code == 422


async def test_a_cursor_only_works_with_its_own_sort_order(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    for _ in range(2):
        await create_task(db_session, alice.user)
    page = (await client.get("/tasks", headers=alice.headers, params={"limit": 1})).json()
    response = await client.get(
        "/tasks", headers=alice.headers, params={"cursor": page["next_cursor"], "sort": "title"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"sort": "owner"},
        {"status": "x"},
        {"colour": "red"},
        {"q": "\x00"},
    ],
)
async def test_list_parameters_are_validated(
    client: AsyncClient, alice: SignedIn, params: dict[str, Any]
) -> None:
    response = await client.get("/tasks", headers=alice.headers, params=params)
    assert response.status_code == 422


async def test_listing_takes_the_same_number_of_queries_for_2_or_20_tasks(
    client: AsyncClient,
    db_session: AsyncSession,
    alice: SignedIn,
    query_counter: QueryCounter,
) -> None:
    async def queries_to_list() -> int:
        with query_counter() as queries:
            await list_tasks(client, alice, limit=100)
        return queries.count

    for n in range(2):
        await create_task(db_session, alice.user, tags=(f"tag{n}", "common"))
    few = await queries_to_list()
    for n in range(18):
        await create_task(db_session, alice.user, tags=(f"tag{n}", "common"))
    many = await queries_to_list()
    # Authentication, the tasks, and all their tags at once.
    assert few == many == 3
