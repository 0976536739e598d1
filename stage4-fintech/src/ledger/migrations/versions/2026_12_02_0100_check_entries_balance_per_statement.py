"""check that entries sum to zero once per statement, not once per row at commit

Revision ID: 6c1f0e9b3d2a
Revises: 205481f0c27b
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "6c1f0e9b3d2a"
down_revision: str | None = "205481f0c27b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The deferred row trigger ran one query per entry at commit: 2,000 for a batch of 1,000
# transfers, each summing the same transfer again. A statement trigger sees every row the
# statement inserted at once (its transition table) and checks each transfer they belong to
# in one query, its older entries included. It runs at the end of the statement instead of
# at commit, so a transfer's entries must be written by one statement: a debit inserted
# alone is refused at once, before its credit could follow. That is stricter, never looser.
STATEMENT_CHECK = [
    """
    CREATE FUNCTION check_new_entries_balance() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        unbalanced record;
    BEGIN
        SELECT transfer_id, currency INTO unbalanced FROM entries
        WHERE transfer_id IN (SELECT transfer_id FROM new_entries)
        GROUP BY transfer_id, currency HAVING sum(amount) <> 0
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'the entries of transfer % do not sum to zero in %',
                unbalanced.transfer_id, unbalanced.currency
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER entries_balance_per_transfer AFTER INSERT ON entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION check_new_entries_balance()
    """,
]

# The previous revision's rule, as it was, for the way down.
ROW_CHECK = [
    """
    CREATE FUNCTION check_transfer_balances() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        unbalanced text;
    BEGIN
        SELECT currency INTO unbalanced FROM entries
        WHERE transfer_id = NEW.transfer_id
        GROUP BY currency HAVING sum(amount) <> 0
        LIMIT 1;
        IF unbalanced IS NOT NULL THEN
            RAISE EXCEPTION 'the entries of transfer % do not sum to zero in %',
                NEW.transfer_id, unbalanced
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER entries_balance_per_transfer AFTER INSERT ON entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION check_transfer_balances()
    """,
]


def upgrade() -> None:
    op.execute("DROP TRIGGER entries_balance_per_transfer ON entries")
    op.execute("DROP FUNCTION check_transfer_balances()")
    for statement in STATEMENT_CHECK:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER entries_balance_per_transfer ON entries")
    op.execute("DROP FUNCTION check_new_entries_balance()")
    for statement in ROW_CHECK:
        op.execute(statement)
