"""What the end-to-end tests set up: stock in the catalog's database, customers through
the gateway."""

import itertools
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Category, Product, Variant

PASSWORD = "correct horse battery staple"
CHECKOUT = {
    "shipping_address": {
        "name": "Ada",
        "line1": "1 Main St",
        "city": "London",
        "postal_code": "N1",
        "country": "GB",
    }
}
_sequence = itertools.count(1)


async def make_variant(session: AsyncSession, *, stock: int, price: int = 1500) -> int:
    n = next(_sequence)
    category = Category(name="Shirts", slug=f"shirts-{n}")
    session.add(category)
    await session.flush()
    product = Product(category_id=category.id, name="Oxford shirt", description="Blue")
    session.add(product)
    await session.flush()
    variant = Variant(
        product_id=product.id,
        # Not the product id: ids restart with each test, and the SKU names the alerts.
        sku=f"OX-{n}",
        name="M",
        price_amount=price,
        currency="EUR",
        stock=stock,
    )
    session.add(variant)
    await session.commit()
    return variant.id


async def signed_up(http: httpx.AsyncClient) -> dict[str, str]:
    """A new customer, signed in: the headers of their requests."""
    return (await customer(http)).headers


@dataclass(frozen=True)
class Customer:
    email: str
    headers: dict[str, str]


async def customer(http: httpx.AsyncClient) -> Customer:
    """A new customer, signed in."""
    email = f"customer{next(_sequence)}@example.com"
    registered = await http.post(
        "/auth/register", json={"email": email, "name": "Ada", "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    login = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
    return Customer(email, {"Authorization": f"Bearer {login.json()['access_token']}"})


async def stock_of(session: AsyncSession, variant_id: int) -> int:
    session.expire_all()
    stock = await session.scalar(select(Variant.stock).where(Variant.id == variant_id))
    assert stock is not None
    return stock
