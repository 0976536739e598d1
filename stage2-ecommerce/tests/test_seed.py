from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import Product, User, Variant
from shop.seed import seed


async def test_the_seed_fills_an_empty_shop_and_is_safe_to_run_again(
    db_session: AsyncSession,
) -> None:
    heard: list[str] = []
    first = await seed(db_session, currency="EUR", products=40, progress=heard.append)
    second = await seed(db_session, currency="EUR", products=40)

    assert (first.users_created, first.products_created) == (2, 40)
    assert first.variants_created >= 40
    # `make seed` shows each step's count as it goes, not only at the end.
    assert heard[0] == "  users: 2 created"
    assert heard[2:] == ["  products: 40", f"  variants: {first.variants_created:,}"]
    assert (second.users_created, second.products_created) == (0, 0)
    assert await db_session.scalar(select(func.count()).select_from(Product)) == 40
    assert await db_session.scalar(select(func.count()).select_from(User)) == 2
    variants = await db_session.scalar(select(func.count()).select_from(Variant))
    assert variants == first.variants_created
