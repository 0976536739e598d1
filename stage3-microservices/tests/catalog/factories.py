"""Catalog test data: rows made in the catalog's database, and tokens as the orders service
would sign them (the catalog has no users of its own)."""

import itertools
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.catalog.cache import CatalogCache
from catalog.dependencies import SERVICE_TOKEN_TYPE
from catalog.models import Category, Product, Variant
from roadmap_shared.database import utcnow
from roadmap_shared.security.public_keys import TokenSigner
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE

_sequence = itertools.count(1)

# For tests that call the services directly and look at no cached page.
NO_CACHE = CatalogCache(None, ttl_seconds=0)


def bearer(
    signer: TokenSigner, *, role: str | None, token_type: str = ACCESS_TOKEN_TYPE
) -> dict[str, str]:
    claims = {"role": role} if role else {}
    issued = signer.encode(
        subject="1", token_type=token_type, lifetime=timedelta(minutes=5), claims=claims
    )
    return {"Authorization": f"Bearer {issued.token}"}


def service_bearer(signer: TokenSigner) -> dict[str, str]:
    return bearer(signer, role=None, token_type=SERVICE_TOKEN_TYPE)


async def make_category(session: AsyncSession) -> Category:
    n = next(_sequence)
    category = Category(name=f"Category {n}", slug=f"category-{n}")
    session.add(category)
    await session.commit()
    return category


async def make_product(
    session: AsyncSession,
    *,
    prices_and_stock: list[tuple[int, int]] | None = None,
    archived: bool = False,
) -> Product:
    """A product with one variant per (price, stock) pair; by default one at 10.00 x 10."""
    category = await make_category(session)
    n = next(_sequence)
    product = Product(
        category_id=category.id,
        name=f"Product {n}",
        description="",
        archived_at=utcnow() if archived else None,
    )
    session.add(product)
    await session.flush()
    for i, (price, stock) in enumerate(prices_and_stock or [(1000, 10)]):
        session.add(
            Variant(
                product_id=product.id,
                sku=f"SKU-{n}-{i}",
                name=f"Variant {i}",
                price_amount=price,
                currency="EUR",
                stock=stock,
            )
        )
    await session.commit()
    return product


async def variants_of(session: AsyncSession, product: Product) -> list[Variant]:
    query = select(Variant).where(Variant.product_id == product.id).order_by(Variant.id)
    return list((await session.scalars(query)).all())


async def stock_of(session: AsyncSession, variant_id: int) -> int:
    session.expire_all()
    stock = await session.scalar(select(Variant.stock).where(Variant.id == variant_id))
    assert stock is not None
    return stock
