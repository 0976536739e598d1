"""Product images: checked from their bytes, bounded in size and pixels, served back."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from shop.config import Settings
from shop.main import MULTIPART_OVERHEAD_BYTES
from shop.models import Product
from tests.factories import UPLOAD, auth, image_bytes, make_user, upload


async def test_an_uploaded_image_is_stored_and_served_back_by_url(
    client: AsyncClient, product: Product, admin: dict[str, str]
) -> None:
    data = image_bytes("PNG")

    response = await upload(client, product.id, data, admin)

    assert response.status_code == 201
    image = response.json()
    assert (image["width"], image["height"], image["alt_text"]) == (200, 100, "The product, in red")
    assert image["url"].startswith("/media/products/")
    served = await client.get(image["url"])
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "image/png"
    detail = (await client.get(f"/products/{product.id}")).json()
    assert [i["url"] for i in detail["images"]] == [image["url"]]


async def test_the_type_comes_from_the_bytes_not_the_name(
    client: AsyncClient, product: Product, admin: dict[str, str]
) -> None:
    jpeg_named_png = await upload(client, product.id, image_bytes("JPEG"), admin)
    text_named_png = await upload(client, product.id, b"<script>alert(1)</script>", admin)
    gif = await upload(client, product.id, image_bytes("GIF"), admin, filename="a.gif")

    assert jpeg_named_png.status_code == 201
    assert jpeg_named_png.json()["url"].endswith(".jpg")
    assert text_named_png.status_code == 415
    assert gif.status_code == 415


async def test_images_too_small_too_large_or_damaged_are_refused(
    client: AsyncClient, product: Product, admin: dict[str, str], settings: Settings
) -> None:
    tiny = image_bytes(size=(settings.min_image_side - 1, 100))
    huge = image_bytes(size=(settings.max_image_side + 1, 100))
    cut_short = image_bytes()[:-40]

    for data in (tiny, huge, cut_short):
        response = await upload(client, product.id, data, admin)
        assert response.status_code == 422


async def test_files_over_the_size_limit_are_413(
    client: AsyncClient, product: Product, admin: dict[str, str], settings: Settings
) -> None:
    # Just over the limit: refused by the handler, which counts the file's own bytes.
    over = await upload(client, product.id, b"\0" * (settings.max_image_bytes + 1), admin)
    # Far over: refused by the body-size middleware before the body is even parsed.
    body_size = settings.max_image_bytes + MULTIPART_OVERHEAD_BYTES + 1
    far_over = await upload(client, product.id, b"\0" * body_size, admin)

    assert over.status_code == far_over.status_code == 413
    assert far_over.headers["content-type"] == "application/problem+json"


async def test_other_admin_routes_keep_the_small_body_limit(
    client: AsyncClient, admin: dict[str, str], settings: Settings
) -> None:
    response = await client.post(
        "/admin/categories",
        content=b"{" + b" " * settings.max_body_bytes + b"}",
        headers={**admin, "Content-Type": "application/json"},
    )

    assert response.status_code == 413


async def test_uploads_need_an_admin_and_a_real_product(
    client: AsyncClient,
    db_session: AsyncSession,
    product: Product,
    admin: dict[str, str],
    settings: Settings,
) -> None:
    customer = auth(settings, await make_user(db_session))

    anonymous = await upload(client, product.id, image_bytes(), {})
    as_customer = await upload(client, product.id, image_bytes(), customer)
    no_product = await upload(client, 999_999, image_bytes(), admin)
    no_file = await client.post(UPLOAD, data={"product_id": str(product.id)}, headers=admin)

    assert anonymous.status_code == 401
    assert as_customer.status_code == 403
    assert no_product.status_code == 404
    assert no_file.status_code == 422


async def test_a_deleted_image_is_gone_from_the_product_and_the_storage(
    client: AsyncClient, product: Product, admin: dict[str, str]
) -> None:
    image = (await upload(client, product.id, image_bytes(), admin)).json()

    deleted = await client.delete(f"{UPLOAD}/{image['id']}", headers=admin)
    again = await client.delete(f"{UPLOAD}/{image['id']}", headers=admin)

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert (await client.get(image["url"])).status_code == 404
    assert (await client.get(f"/products/{product.id}")).json()["images"] == []


async def test_the_media_route_serves_nothing_outside_its_directory(client: AsyncClient) -> None:
    for path in ("/media/nothing-here.png", "/media/../alembic.ini", "/media/%2e%2e/alembic.ini"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
