"""Row-level security: a query that forgets its tenant filter returns only the current
organisation's rows, or none; never another organisation's."""

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import TENANT_TABLES
from billing.tenancy import TENANT_ROLE, act_for_organization
from tests.factories import new_tenant, start_payment


async def _two_tenants_with_payments(client: AsyncClient) -> tuple[int, int]:
    first, second = await new_tenant(client, "First"), await new_tenant(client, "Second")
    for tenant in (first, second, second):
        await start_payment(client, tenant)
    return first.id, second.id


async def test_the_tenant_role_cannot_bypass_row_level_security(db_session: AsyncSession) -> None:
    await act_for_organization(db_session, 1)
    role = (
        await db_session.execute(
            text(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
        )
    ).one()
    assert tuple(role) == (TENANT_ROLE, False, False)


async def test_every_tenant_table_forces_row_level_security(db_session: AsyncSession) -> None:
    rows = await db_session.execute(
        text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relname = ANY(:tables) AND relkind = 'r'"
        ),
        {"tables": list(TENANT_TABLES)},
    )
    assert sorted(tuple(row) for row in rows) == sorted(
        (table, True, True) for table in TENANT_TABLES
    )


async def test_a_query_without_the_tenant_filter_sees_only_the_current_tenant(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    first, second = await _two_tenants_with_payments(client)

    await act_for_organization(db_session, first)
    # No WHERE clause: the "forgotten filter" bug.
    rows = (await db_session.execute(text("SELECT organization_id FROM payments"))).scalars()
    assert list(rows) == [first]

    await act_for_organization(db_session, second)
    rows = (await db_session.execute(text("SELECT organization_id FROM payments"))).scalars()
    assert list(rows) == [second, second]


async def test_without_a_tenant_nothing_is_visible(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await _two_tenants_with_payments(client)
    await db_session.execute(text(f"SET LOCAL ROLE {TENANT_ROLE}"))
    await db_session.execute(
        text(
            "SELECT set_config('app.organization_id', '', true), "
            "set_config('app.user_id', '', true)"
        )
    )
    for table in TENANT_TABLES:
        count = await db_session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
        assert count == 0, table


async def test_writing_a_row_for_another_tenant_is_refused(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    first, second = await _two_tenants_with_payments(client)
    await act_for_organization(db_session, first)
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db_session.begin_nested():
            await db_session.execute(
                text("INSERT INTO projects (organization_id, name) VALUES (:other, 'stolen')"),
                {"other": second},
            )
    # Nor can a visible row be moved into another tenant.
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db_session.begin_nested():
            await db_session.execute(
                text("UPDATE payments SET organization_id = :other"), {"other": second}
            )


async def test_an_update_without_the_filter_touches_only_the_current_tenant(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    first, _ = await _two_tenants_with_payments(client)
    await act_for_organization(db_session, first)
    result = await db_session.execute(text("UPDATE payments SET status = 'canceled'"))
    assert getattr(result, "rowcount", None) == 1


async def test_a_read_request_is_scoped_to_its_tenant_in_a_transaction(
    committing_client: AsyncClient,
) -> None:
    """GET requests get a real session (not the test's transaction) here. Were their
    statements autocommitted, as the other stages' reads are, `SET LOCAL ROLE` and the
    tenant setting would end with their own statement and the query after them would run
    with neither: the tenancy functions refuse that, so this read would fail."""
    tenant = await new_tenant(committing_client)
    response = await committing_client.get(
        f"/organizations/{tenant.id}/members", headers=tenant.owner
    )
    assert response.status_code == 200, response.text
    assert len(response.json()) == 3
