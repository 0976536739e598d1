"""Demo data: `python -m shop.seed` (or `make seed STAGE=stage2-ecommerce`).

Creates an admin and a customer, a two-level category tree, and a few hundred products
with variants, prices and stock. Deterministic (a fixed random seed), so every machine
gets the same shop. Safe to run again: users are created only if missing, and the
catalogue only if it is empty. It refuses to run in production.
"""

import argparse
import asyncio
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.database import Database
from roadmap_shared.security.passwords import hash_password
from roadmap_shared.settings import Environment
from shop.config import Settings, get_settings
from shop.models import Category, Product, Role, User, Variant

# Development-only accounts, printed at the end so a learner can log in straight away.
ACCOUNTS = [
    ("admin@example.com", "Ada Admin", "admin-password-123", Role.ADMIN),
    ("customer@example.com", "Carl Customer", "customer-password-123", Role.CUSTOMER),
]

CATEGORY_TREE = {
    "Clothing": ["Shirts", "Jackets", "Knitwear"],
    "Shoes": ["Running", "Hiking", "Casual"],
    "Home": ["Kitchen", "Lighting", "Textiles"],
    "Outdoor": ["Camping", "Cycling", "Garden"],
    "Stationery": ["Notebooks", "Pens", "Desk"],
}
NOUNS = {
    "Shirts": ["shirt", "polo", "tee"],
    "Jackets": ["jacket", "parka", "raincoat"],
    "Knitwear": ["jumper", "cardigan", "beanie"],
    "Running": ["running shoe", "racing flat", "trail runner"],
    "Hiking": ["hiking boot", "approach shoe", "gaiter"],
    "Casual": ["sneaker", "loafer", "slip-on"],
    "Kitchen": ["kettle", "teapot", "chef's knife", "mug"],
    "Lighting": ["desk lamp", "pendant light", "lantern"],
    "Textiles": ["blanket", "cushion", "tea towel"],
    "Camping": ["tent", "sleeping bag", "camp stove"],
    "Cycling": ["bike light", "saddle bag", "helmet"],
    "Garden": ["watering can", "trowel", "planter"],
    "Notebooks": ["notebook", "sketchbook", "planner"],
    "Pens": ["fountain pen", "ballpoint", "pencil set"],
    "Desk": ["desk organiser", "letter tray", "bookend"],
}
ADJECTIVES = [
    "Classic",
    "Everyday",
    "Featherweight",
    "Heritage",
    "Nordic",
    "Urban",
    "Alpine",
    "Coastal",
    "Studio",
    "Field",
    "Harbour",
    "Summit",
]
MATERIALS = [
    "wool",
    "cotton",
    "linen",
    "oak",
    "steel",
    "ceramic",
    "leather",
    "recycled nylon",
    "bamboo",
    "canvas",
    "merino",
    "brass",
]
COLOURS = ["black", "navy", "forest green", "rust", "sand", "grey", "white"]
SIZES = ["XS", "S", "M", "L", "XL"]


@dataclass(frozen=True)
class SeedReport:
    users_created: int
    categories_created: int
    products_created: int
    variants_created: int


def _quiet(_: str) -> None:
    pass


async def seed(
    session: AsyncSession,
    *,
    currency: str,
    products: int = 300,
    progress: Callable[[str], None] = _quiet,
) -> SeedReport:
    """Creates what is missing; `progress` hears one line per step as it goes."""
    rng = random.Random(2026)  # noqa: S311  (demo data, not secrets)
    users_created = await _seed_users(session)
    progress(f"  users: {users_created} created")
    if await session.scalar(select(func.count()).select_from(Product)):
        return SeedReport(users_created, 0, 0, 0)
    leaves = await _seed_categories(session)
    progress(f"  categories: {len(leaves)} leaves under {len(CATEGORY_TREE)} roots")
    rows = [_product(rng, rng.choice(list(leaves))) for _ in range(products)]
    product_ids = (
        await session.scalars(
            insert(Product).returning(Product.id),
            [
                {"category_id": leaves[leaf], "name": name, "description": text}
                for leaf, name, text in rows
            ],
        )
    ).all()
    progress(f"  products: {len(product_ids):,}")
    variants = [
        variant
        for number, product_id in enumerate(product_ids, start=1)
        for variant in _variants(rng, product_id, number, currency)
    ]
    await session.execute(insert(Variant), variants)
    progress(f"  variants: {len(variants):,}")
    categories = len(CATEGORY_TREE) + sum(len(children) for children in CATEGORY_TREE.values())
    return SeedReport(users_created, categories, len(product_ids), len(variants))


async def _seed_users(session: AsyncSession) -> int:
    created = 0
    for email, name, password, role in ACCOUNTS:
        statement = (
            pg_insert(User)
            .values(email=email, name=name, password_hash=await hash_password(password), role=role)
            .on_conflict_do_nothing(index_elements=[User.email])
            .returning(User.id)
        )
        created += await session.scalar(statement) is not None
    return created


async def _seed_categories(session: AsyncSession) -> dict[str, int]:
    """Creates the tree; returns the leaf categories' ids by name."""
    leaves: dict[str, int] = {}
    for root_name, children in CATEGORY_TREE.items():
        root = Category(name=root_name, slug=_slug(root_name))
        session.add(root)
        await session.flush()
        for child_name in children:
            child = Category(
                name=child_name, slug=_slug(f"{root_name} {child_name}"), parent_id=root.id
            )
            session.add(child)
            await session.flush()
            leaves[child_name] = child.id
    return leaves


def _slug(text: str) -> str:
    return "-".join(text.lower().replace("'", "").split())


def _product(rng: random.Random, leaf: str) -> tuple[str, str, str]:
    noun, material = rng.choice(NOUNS[leaf]), rng.choice(MATERIALS)
    name = f"{rng.choice(ADJECTIVES)} {material} {noun}"
    description = (
        f"A {noun} made from {material}, built to last. "
        f"Part of our {leaf.lower()} range; {rng.choice(['light', 'sturdy', 'warm', 'compact'])} "
        f"and {rng.choice(['easy to care for', 'made to be repaired', 'tested outdoors'])}."
    )
    return leaf, name.capitalize(), description


def _variants(
    rng: random.Random, product_id: int, number: int, currency: str
) -> list[dict[str, object]]:
    base_price = rng.randrange(500, 25_000, 50)  # 5.00 to 250.00, in steps of 0.50
    options = rng.sample(SIZES if rng.random() < 0.5 else COLOURS, k=rng.randint(1, 4))
    return [
        {
            "product_id": product_id,
            "sku": f"SEED-{number:04d}-{index}",
            "name": option,
            "price_amount": base_price + index * 200,
            "currency": currency,
            # Some variants sold out, some nearly: enough to see filters and alerts work.
            "stock": rng.choice([0, 2, 5, 10, 25, 50, 100]),
        }
        for index, option in enumerate(options)
    ]


def _print_now(line: str) -> None:
    print(line, flush=True)


async def run(settings: Settings, *, products: int) -> SeedReport:
    database = Database(settings.database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            return await seed(
                session, currency=settings.currency, products=products, progress=_print_now
            )
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=300, help="how many products (300)")
    arguments = parser.parse_args()
    settings = get_settings()
    if settings.environment is Environment.PRODUCTION:
        sys.exit("Refusing to seed demo accounts into a production database.")
    report = asyncio.run(run(settings, products=arguments.products))
    if report.products_created == 0:
        print("The catalogue already has products; it was left as it is.")
    else:
        print(
            f"Created {report.categories_created} categories, {report.products_created} "
            f"products and {report.variants_created} variants."
        )
    print(f"Created {report.users_created} user(s). Log in with:")
    for email, _, password, role in ACCOUNTS:
        print(f"  {role.value:<9} {email} / {password}")


if __name__ == "__main__":
    main()
