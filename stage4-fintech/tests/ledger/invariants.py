"""The ledger's invariants, read from the tables themselves."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def assert_ledger_holds(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        unbalanced = await connection.execute(
            text(
                "SELECT currency, sum(amount) FROM entries"
                " GROUP BY currency HAVING sum(amount) <> 0"
            )
        )
        assert unbalanced.all() == [], "a currency's entries do not sum to zero"
        drifted = await connection.execute(
            text(
                "SELECT a.id, a.balance, coalesce(sum(e.amount), 0) FROM accounts a"
                " LEFT JOIN entries e ON e.account_id = a.id"
                " GROUP BY a.id HAVING a.balance <> coalesce(sum(e.amount), 0)"
            )
        )
        assert drifted.all() == [], "a stored balance differs from the sum of its entries"
        negative = await connection.execute(
            text("SELECT id FROM accounts WHERE must_not_go_negative AND balance < 0")
        )
        assert negative.all() == [], "an account that must not go negative did"
        chained = await connection.execute(
            text(
                "SELECT account_id FROM ("
                "  SELECT account_id, balance_before,"
                "         lag(balance_after) OVER (PARTITION BY account_id ORDER BY id) AS previous"
                "  FROM entries) e"
                " WHERE previous IS NOT NULL AND previous <> balance_before"
            )
        )
        assert chained.all() == [], "an entry's balance before is not the previous one's after"
