"""Small functions that make test data. Each takes the session to write with and returns
the rows it made; everything not given gets a unique, readable default.

They commit: with `db_session` that releases a savepoint inside the test's transaction
(still rolled back after the test), so a request that fails and rolls back its own work
cannot take the test's data with it.
"""

import io
import itertools
from datetime import timedelta

from httpx import AsyncClient, Response
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.database import utcnow
from roadmap_shared.testing.factories import password_hash
from shop.accounts.tokens import issue_access_token
from shop.config import Settings
from shop.models import CartItem, Category, Product, Role, User, Variant

PASSWORD = "correct horse battery staple"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}
CHECKOUT = {"shipping_address": ADDRESS}
UPLOAD = "/admin/product-images"

_sequence = itertools.count(1)


async def make_user(
    session: AsyncSession, *, role: Role = Role.CUSTOMER, email: str | None = None
) -> User:
    n = next(_sequence)
    user = User(
        email=email or f"user{n}@example.com",
        name=f"User {n}",
        password_hash=await password_hash(PASSWORD),
        role=role,
    )
    session.add(user)
    await session.commit()
    return user


def auth(settings: Settings, user: User, *, lifetime: timedelta | None = None) -> dict[str, str]:
    issued = issue_access_token(
        settings.token_codec(), user, lifetime or settings.access_token_lifetime
    )
    return {"Authorization": f"Bearer {issued.token}"}


async def make_category(
    session: AsyncSession, *, name: str | None = None, parent: Category | None = None
) -> Category:
    n = next(_sequence)
    name = name or f"Category {n}"
    slug = f"{name.lower().replace(' ', '-')}-{n}"
    category = Category(name=name, slug=slug, parent_id=parent.id if parent else None)
    session.add(category)
    await session.commit()
    return category


async def make_product(
    session: AsyncSession,
    *,
    category: Category | None = None,
    name: str | None = None,
    description: str = "",
    prices_and_stock: list[tuple[int, int]] | None = None,
    archived: bool = False,
    currency: str = "EUR",
) -> Product:
    """A product with one variant per (price, stock) pair; by default one at 10.00 x 10."""
    category = category or await make_category(session)
    n = next(_sequence)
    product = Product(
        category_id=category.id,
        name=name or f"Product {n}",
        description=description,
        archived_at=utcnow() if archived else None,
    )
    session.add(product)
    await session.flush()
    if prices_and_stock is None:
        prices_and_stock = [(1000, 10)]
    for i, (price, stock) in enumerate(prices_and_stock):
        session.add(
            Variant(
                product_id=product.id,
                sku=f"SKU-{n}-{i}",
                name=f"Variant {i}",
                price_amount=price,
                currency=currency,
                stock=stock,
            )
        )
    await session.commit()
    return product


async def variants_of(session: AsyncSession, product: Product) -> list[Variant]:
    query = select(Variant).where(Variant.product_id == product.id).order_by(Variant.id)
    return list((await session.scalars(query)).all())


async def put_in_cart(
    session: AsyncSession, user: User, variant: Variant, quantity: int = 1
) -> None:
    session.add(CartItem(user_id=user.id, variant_id=variant.id, quantity=quantity))
    await session.commit()


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (200, 100)) -> bytes:
    """A real image (a red rectangle), encoded as `image_format`."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color=(200, 30, 60)).save(buffer, format=image_format)
    return buffer.getvalue()


async def upload(
    client: AsyncClient,
    product_id: int,
    data: bytes,
    headers: dict[str, str],
    *,
    filename: str = "photo.png",
    content_type: str = "image/png",
) -> Response:
    """Uploads `data` as a product image, as a multipart form from a browser would."""
    return await client.post(
        UPLOAD,
        data={"product_id": str(product_id), "alt_text": "The product, in red"},
        files={"file": (filename, data, content_type)},
        headers=headers,
    )
