"""Scoping a transaction to one organisation, for PostgreSQL's row-level security.

Every tenant table has a policy `organization_id = current_setting('app.organization_id')`
(see the first migration). A transaction that touches tenant data first calls
`act_for_organization`, which

- switches to the role `billing_tenant` for the rest of the transaction (`SET LOCAL ROLE`):
  it has no superuser rights and no BYPASSRLS, so the policies apply even when the
  connection's own user could bypass them (a superuser always does);
- sets `app.organization_id` (and `app.user_id`) for the rest of the transaction only
  (`set_config(..., true)`), so a pooled connection never carries one request's tenant
  into the next.

A query that forgets its `WHERE organization_id = ...` then returns this organisation's
rows and nothing else, instead of every tenant's.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Created by the first migration; the database user the app connects as must be granted it.
TENANT_ROLE = "billing_tenant"


class TenantScopeNeedsTransactionError(RuntimeError):
    """Under autocommit, `SET LOCAL` and `set_config(..., true)` end with their own
    statement: the next query would run as the connection's user, with no tenant set."""


async def _switch_to_tenant_role(session: AsyncSession) -> None:
    connection = (await session.connection()).sync_connection
    assert connection is not None  # noqa: S101  (a connection that was just checked out)
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        raise TenantScopeNeedsTransactionError(
            "tenant scope needs a transaction: Database(reads_in_transaction=True)"
        )
    await session.execute(text(f"SET LOCAL ROLE {TENANT_ROLE}"))


async def act_for_organization(
    session: AsyncSession, organization_id: int, *, user_id: int | None = None
) -> None:
    await _switch_to_tenant_role(session)
    await session.execute(
        text(
            "SELECT set_config('app.organization_id', :organization, true), "
            "set_config('app.user_id', :user, true)"
        ),
        {"organization": str(organization_id), "user": "" if user_id is None else str(user_id)},
    )


async def act_as_user(session: AsyncSession, user_id: int) -> None:
    """Scoped to no organisation: only the user's own memberships are visible."""
    await _switch_to_tenant_role(session)
    await session.execute(
        text(
            "SELECT set_config('app.organization_id', '', true), "
            "set_config('app.user_id', :user, true)"
        ),
        {"user": str(user_id)},
    )
