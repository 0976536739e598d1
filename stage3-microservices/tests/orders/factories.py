"""Orders test data: users and tokens here, and products in the catalog's database."""

import itertools
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Category, Product, Variant
from orders.accounts.tokens import issue_access_token
from orders.config import Settings
from orders.models import CartItem, Role, User
from roadmap_shared.testing.factories import password_hash

PASSWORD = "correct horse battery staple"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}
CHECKOUT = {"shipping_address": ADDRESS}

_sequence = itertools.count(1)


async def make_user(session: AsyncSession, *, role: Role = Role.CUSTOMER) -> User:
    n = next(_sequence)
    user = User(
        email=f"user{n}@example.com",
        name=f"User {n}",
        password_hash=await password_hash(PASSWORD),
        role=role,
    )
    session.add(user)
    await session.commit()
    return user


def auth(settings: Settings, user: User, *, lifetime: timedelta | None = None) -> dict[str, str]:
    issued = issue_access_token(
        settings.token_signer(), user, lifetime or settings.access_token_lifetime
    )
    return {"Authorization": f"Bearer {issued.token}"}


async def make_variant(catalog_session: AsyncSession, *, price: int = 1000, stock: int = 10) -> int:
    """A product with one variant in the catalog's database; the variant's id."""
    n = next(_sequence)
    category = Category(name=f"Category {n}", slug=f"category-{n}")
    catalog_session.add(category)
    await catalog_session.flush()
    product = Product(category_id=category.id, name=f"Product {n}", description="")
    catalog_session.add(product)
    await catalog_session.flush()
    variant = Variant(
        product_id=product.id,
        sku=f"SKU-{n}",
        name="One size",
        price_amount=price,
        currency="EUR",
        stock=stock,
    )
    catalog_session.add(variant)
    await catalog_session.commit()
    return variant.id


async def stock_of(catalog_session: AsyncSession, variant_id: int) -> int:
    catalog_session.expire_all()
    stock = await catalog_session.scalar(select(Variant.stock).where(Variant.id == variant_id))
    assert stock is not None
    return stock


async def put_in_cart(
    session: AsyncSession, user: User, variant_id: int, quantity: int = 1
) -> None:
    session.add(CartItem(user_id=user.id, variant_id=variant_id, quantity=quantity))
    await session.commit()
