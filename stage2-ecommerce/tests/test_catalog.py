"""The public catalogue: listing, filters, sorting, full-text search, product detail."""

from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shop.catalog.schemas import ImagePublic, ProductDetail, ProductSummary, VariantPublic
from tests.factories import image_bytes, make_category, make_product, upload


def names(response_json: dict[str, object]) -> list[str]:
    items = response_json["items"]
    assert isinstance(items, list)
    return [item["name"] for item in items]


async def test_the_list_is_paginated_newest_first_with_a_total(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    for n in range(3):
        await make_product(db_session, name=f"Lamp {n}")

    first = await client.get("/products", params={"size": 2})
    second = await client.get("/products", params={"size": 2, "page": 2})

    assert first.status_code == 200
    assert first.json()["total"] == 3
    assert first.json()["pages"] == 2
    assert names(first.json()) + names(second.json()) == ["Lamp 2", "Lamp 1", "Lamp 0"]


async def test_a_page_past_the_last_one_is_empty_and_still_counts_the_products(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    # The total comes in the page's statement, which aggregates: no row to carry it is no
    # reason to lose it.
    for n in range(3):
        await make_product(db_session, name=f"Lamp {n}")

    past = (await client.get("/products", params={"size": 2, "page": 3})).json()

    assert (past["items"], past["total"], past["pages"]) == ([], 3, 2)


async def test_a_list_item_shows_the_lowest_price_and_availability(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_product(db_session, prices_and_stock=[(2500, 0), (1999, 0), (3000, 4)])

    [item] = (await client.get("/products")).json()["items"]

    assert item["price_from"] == {"amount": 1999, "currency": "EUR"}
    assert item["in_stock"] is True
    assert [v["in_stock"] for v in item["variants"]] == [False, False, True]
    assert "stock" not in item["variants"][0]  # exact stock is for admins


async def test_archived_products_and_products_without_variants_are_not_listed(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_product(db_session, name="Visible")
    await make_product(db_session, name="Archived", archived=True)
    await make_product(db_session, name="No variants", prices_and_stock=[])

    response = await client.get("/products")

    assert names(response.json()) == ["Visible"]


async def test_filtering_by_category_includes_its_subcategories(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    shoes = await make_category(db_session, name="Shoes")
    running = await make_category(db_session, name="Running", parent=shoes)
    trail = await make_category(db_session, name="Trail", parent=running)
    hats = await make_category(db_session, name="Hats")
    await make_product(db_session, name="Trail shoe", category=trail)
    await make_product(db_session, name="Plain shoe", category=shoes)
    await make_product(db_session, name="Cap", category=hats)

    in_shoes = await client.get("/products", params={"category": shoes.slug, "sort": "name"})
    in_running = await client.get("/products", params={"category": running.slug})
    in_nothing = await client.get("/products", params={"category": "no-such-category"})

    assert names(in_shoes.json()) == ["Plain shoe", "Trail shoe"]
    assert names(in_running.json()) == ["Trail shoe"]
    assert in_nothing.json()["items"] == []


async def test_filtering_by_category_ends_even_if_the_tree_has_a_loop(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    # Moves are checked so this cannot happen through the API; if it ever did (a manual
    # UPDATE), a public listing must not walk round the loop forever.
    ring = await make_category(db_session, name="Ring")
    other = await make_category(db_session, name="Other", parent=ring)
    await make_product(db_session, name="Band", category=other)
    await make_product(db_session, name="Elsewhere")  # in no category of the ring
    ring.parent_id = other.id
    await db_session.commit()
    # Were the walk endless, the test fails here instead of hanging.
    await db_session.execute(text("SET LOCAL statement_timeout = '5s'"))

    response = await client.get("/products", params={"category": ring.slug})

    assert response.status_code == 200
    assert names(response.json()) == ["Band"]


async def test_filtering_by_price_range_and_stock(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_product(db_session, name="Cheap", prices_and_stock=[(500, 1)])
    await make_product(db_session, name="Middle", prices_and_stock=[(1500, 0)])
    await make_product(db_session, name="Dear", prices_and_stock=[(5000, 2)])

    in_range = await client.get("/products", params={"min_price": 1000, "max_price": 5000})
    available = await client.get("/products", params={"in_stock": "true", "sort": "price_asc"})
    sold_out = await client.get("/products", params={"in_stock": "false"})

    assert sorted(names(in_range.json())) == ["Dear", "Middle"]
    assert names(available.json()) == ["Cheap", "Dear"]
    assert names(sold_out.json()) == ["Middle"]


async def test_sorting_by_price_and_name(client: AsyncClient, db_session: AsyncSession) -> None:
    await make_product(db_session, name="Banana", prices_and_stock=[(300, 1)])
    await make_product(db_session, name="Apple", prices_and_stock=[(200, 1)])
    await make_product(db_session, name="Cherry", prices_and_stock=[(100, 1)])

    by_price = await client.get("/products", params={"sort": "price_desc"})
    by_name = await client.get("/products", params={"sort": "name"})

    assert names(by_price.json()) == ["Banana", "Apple", "Cherry"]
    assert names(by_name.json()) == ["Apple", "Banana", "Cherry"]


async def test_search_matches_word_forms_and_ranks_names_above_descriptions(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_product(db_session, name="Kettle", description="Boils water for running late")
    await make_product(db_session, name="Running shoes", description="Light and fast")
    await make_product(db_session, name="Teapot", description="Porcelain")

    response = await client.get("/products", params={"q": "run"})

    # "run" finds "running" (English stemming); the name match ranks first.
    assert names(response.json()) == ["Running shoes", "Kettle"]


async def test_search_understands_phrases_and_exclusions(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    await make_product(db_session, name="Red wool hat")
    await make_product(db_session, name="Red cotton shirt")

    response = await client.get("/products", params={"q": "red -wool"})

    assert names(response.json()) == ["Red cotton shirt"]


async def test_bad_list_parameters_are_422_problems(client: AsyncClient) -> None:
    for params in (
        {"size": 101},
        {"page": 0},
        {"min_price": -1},
        {"min_price": 10, "max_price": 5},
        {"sort": "cheapest"},
        {"sort": "relevance"},  # ranking needs a search
        {"in_stock": "maybe"},
        {"q": ""},
    ):
        response = await client.get("/products", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_product_detail_shows_variants_but_not_exact_stock(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    product = await make_product(
        db_session, name="Mug", description="Holds tea", prices_and_stock=[(900, 2), (1100, 0)]
    )

    response = await client.get(f"/products/{product.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Mug"
    assert body["description"] == "Holds tea"
    assert [(v["price"]["amount"], v["in_stock"]) for v in body["variants"]] == [
        (900, True),
        (1100, False),
    ]


def assert_shaped_as(model: type[BaseModel], body: dict[str, Any]) -> None:
    """`body` has exactly `model`'s fields (no more, no fewer) and validates as it."""
    assert set(body) == set(model.model_fields)
    model.model_validate(body)


async def test_list_items_and_details_are_shaped_as_their_documented_models(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    # The public reads build their JSON without the response models (catalog/schemas.py):
    # this is what holds them to the models the OpenAPI document shows.
    product = await make_product(db_session, prices_and_stock=[(900, 2), (1100, 0)])
    assert (await upload(client, product.id, image_bytes(), admin)).status_code == 201

    [item] = (await client.get("/products")).json()["items"]
    detail = (await client.get(f"/products/{product.id}")).json()

    for body, model in ((item, ProductSummary), (detail, ProductDetail)):
        assert_shaped_as(model, body)
        for variant in body["variants"]:
            assert_shaped_as(VariantPublic, variant)
        [image] = body["images"]
        assert_shaped_as(ImagePublic, image)


async def test_a_listed_product_reads_as_its_detail(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    # PostgreSQL writes a list's items, pydantic a detail: names, values, escaping and the
    # timestamps' format must agree, the microseconds left out when there are none.
    awkward = await make_product(
        db_session, name='Tea "cosy" \\ Ünïcode ☕\tend', prices_and_stock=[(700, 0), (700, 1)]
    )
    awkward.created_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    plain = await make_product(db_session, prices_and_stock=[(900, 2), (400, 0)])
    plain.created_at = datetime(2026, 1, 2, 3, 4, 6, 120000, tzinfo=UTC)
    await db_session.flush()
    assert (await upload(client, plain.id, image_bytes(), admin)).status_code == 201

    items = (await client.get("/products")).json()["items"]

    assert [item["created_at"] for item in items] == [
        "2026-01-02T03:04:06.120000Z",
        "2026-01-02T03:04:05Z",
    ]
    for item in items:
        detail = (await client.get(f"/products/{item['id']}")).json()
        shared = ("id", "name", "category_id", "variants", "images", "created_at")
        assert {name: item[name] for name in shared} == {name: detail[name] for name in shared}
        prices = [variant["price"] for variant in detail["variants"]]
        assert item["price_from"] == min(prices, key=lambda price: price["amount"])
        assert item["in_stock"] is any(variant["in_stock"] for variant in detail["variants"])
    assert items[1]["name"] == 'Tea "cosy" \\ Ünïcode ☕\tend'
    assert items[0]["images"][0]["url"].startswith("/media/products/")


async def test_an_archived_or_unknown_product_is_404(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    archived = await make_product(db_session, archived=True)

    for path in (f"/products/{archived.id}", "/products/999999"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
    # Past BIGINT: refused at the edge, not sent to PostgreSQL to fail there.
    assert (await client.get("/products/99999999999999999999")).status_code == 422


async def test_the_category_tree_nests_children_under_parents(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    clothes = await make_category(db_session, name="Clothes")
    await make_category(db_session, name="Shirts", parent=clothes)
    await make_category(db_session, name="Coats", parent=clothes)
    await make_category(db_session, name="Books")

    tree = (await client.get("/categories")).json()

    assert [node["name"] for node in tree] == ["Books", "Clothes"]
    assert [child["name"] for child in tree[1]["children"]] == ["Coats", "Shirts"]
