"""entries: one per account version; entries and transfers in their accounts' currency

Revision ID: 9b09d2d80db6
Revises: 6c1f0e9b3d2a
Create Date: 2026-12-02 11:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9b09d2d80db6"
down_revision: str | None = "6c1f0e9b3d2a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_ENTRY_PER_VERSION = "uq_entries_account_id_account_version"
ACCOUNT_AND_CURRENCY = "uq_accounts_id_currency"
# The references to an account that now name its currency too: (table, column).
ACCOUNT_REFERENCES = [
    ("entries", "account_id"),
    ("transfers", "debit_account_id"),
    ("transfers", "credit_account_id"),
]


def _foreign_key(table: str, column: str) -> str:
    return f"fk_{table}_{column}_accounts"


def upgrade() -> None:
    # Entries grow forever: their index is built without blocking the ledger's writes
    # (CONCURRENTLY, which cannot run inside a transaction), then made the constraint. IF
    # NOT EXISTS: a run that failed after this step committed it finds it built.
    with op.get_context().autocommit_block():
        op.execute(
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {ONE_ENTRY_PER_VERSION} "
            "ON entries (account_id, account_version)"
        )
    op.execute(
        f"ALTER TABLE entries ADD CONSTRAINT {ONE_ENTRY_PER_VERSION} "
        f"UNIQUE USING INDEX {ONE_ENTRY_PER_VERSION}"
    )
    op.create_unique_constraint(ACCOUNT_AND_CURRENCY, "accounts", ["id", "currency"])
    for table, column in ACCOUNT_REFERENCES:
        name = _foreign_key(table, column)
        op.drop_constraint(name, table, type_="foreignkey")
        # NOT VALID, then validated: the rows already there are checked under a lock that
        # lets writes go on; new rows are checked from the start.
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}, currency) "
            "REFERENCES accounts (id, currency) NOT VALID"
        )
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def downgrade() -> None:
    for table, column in ACCOUNT_REFERENCES:
        name = _foreign_key(table, column)
        op.drop_constraint(name, table, type_="foreignkey")
        op.create_foreign_key(name, table, "accounts", [column], ["id"])
    op.drop_constraint(ACCOUNT_AND_CURRENCY, "accounts", type_="unique")
    op.drop_constraint(ONE_ENTRY_PER_VERSION, "entries", type_="unique")
