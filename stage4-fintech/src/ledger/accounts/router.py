"""The HTTP API: read-only, for people and dashboards. Money moves only through gRPC."""

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from ledger.accounts.repository import AccountState, read_accounts
from ledger.accounts.schemas import AccountPublic, EntryPage, EntryPublic
from ledger.history import DEFAULT_PAGE, MAX_PAGE, read_entries
from roadmap_shared.database import SessionDep, core_connection
from roadmap_shared.errors import NotFound, problem_responses

router = APIRouter(prefix="/accounts", tags=["accounts"])


async def _account(session: SessionDep, account_id: uuid.UUID) -> AccountState:
    found = await read_accounts(await core_connection(session), [account_id])
    if not found:
        raise NotFound(f"No account {account_id}.")
    return found[0]


@router.get("/{account_id}", responses=problem_responses(404))
async def get_account(account_id: uuid.UUID, session: SessionDep) -> AccountPublic:
    return AccountPublic(**asdict(await _account(session, account_id)))


@router.get("/{account_id}/entries", responses=problem_responses(404))
async def list_entries(
    account_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="An entry id: older entries")
    ] = None,
) -> EntryPage:
    """The account's entries, newest first."""
    await _account(session, account_id)
    entries = await read_entries(
        await core_connection(session), account_id, limit=limit, before_entry_id=before or 0
    )
    return EntryPage(
        items=[EntryPublic(**asdict(entry)) for entry in entries],
        next_before=entries[-1].id if len(entries) == limit else None,
    )
