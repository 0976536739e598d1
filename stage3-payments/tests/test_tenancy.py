"""Row-level security: a query that forgets its tenant filter returns only the current
organisation's rows, or none; never another organisation's."""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from billing.config import Settings
from billing.dependencies import get_own_transactions
from billing.models import TENANT_TABLES
from billing.stripe_gateway import StripeGateway
from billing.tenancy import TENANT_ROLE, act_for_organization
from billing.webhooks import handlers
from roadmap_shared.database import Database
from tests.factories import confirm_with_card, new_tenant, start_payment, stripe_event


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


@pytest.fixture
async def own_transactions_bound_by_rls(app: FastAPI, database_url: str) -> AsyncIterator[None]:
    """The app's own transactions (a row committed before Stripe is called) on connections
    that start as the tenant role, as a deployment whose user is not a superuser would: a
    transaction that forgot to name its organisation can then write no tenant row. (The
    test database's superuser would bypass row-level security and hide the omission.)"""
    engine = create_async_engine(database_url)

    @event.listens_for(engine.sync_engine, "connect")
    def _as_tenant_role(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET ROLE {TENANT_ROLE}")
        cursor.close()

    app.dependency_overrides[get_own_transactions] = lambda: async_sessionmaker(
        engine, expire_on_commit=False
    )
    yield
    app.dependency_overrides.pop(get_own_transactions, None)
    await engine.dispose()


@pytest.mark.usefixtures("own_transactions_bound_by_rls")
async def test_the_apps_own_transactions_name_their_organisation(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    settings: Settings,
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    payment_url = f"/organizations/{tenant.id}/payments/{payment['id']}"
    assert (await client.get(payment_url, headers=tenant.owner)).status_code == 200
    paid = await confirm_with_card(stripe_client, payment["stripe_payment_intent_id"])
    database, gateway = Database(settings.database_url), StripeGateway(settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            event = json.loads(stripe_event("payment_intent.succeeded", paid))
            await handlers.handle(session, gateway, event)
    finally:
        await gateway.close()
        await database.dispose()

    # The refund is reserved in a transaction of its own; localstripe refuses Stripe's
    # `reason` parameter, so the amount is given back in another one.
    refused = await client.post(
        f"{payment_url}/refunds", json={"reason": "duplicate"}, headers=tenant.owner
    )
    assert refused.status_code == 502, refused.text
    after = (await client.get(payment_url, headers=tenant.owner)).json()
    assert (after["status"], after["amount_refunded"]) == ("succeeded", 0)
