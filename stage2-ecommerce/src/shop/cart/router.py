from fastapi import APIRouter

from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import BigIdPath
from shop.cart import service
from shop.cart.schemas import CartItemAdd, CartItemUpdate, CartPublic, cart_public
from shop.dependencies import CurrentUser, SessionDep, SettingsDep

router = APIRouter(prefix="/cart", tags=["cart"], responses=problem_responses(401))

# Every route answers with the whole cart, so a client redraws it from one response.


async def _cart(session: SessionDep, user_id: int, currency: str) -> CartPublic:
    return cart_public(list(await service.items(session, user_id)), currency=currency)


@router.get("", summary="Your cart, at today's prices")
async def get_cart(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> CartPublic:
    return await _cart(session, user.id, settings.currency)


@router.post(
    "/items",
    summary="Add a variant (adds to the quantity if it is already in the cart)",
    responses=problem_responses(404, 409),
)
async def add_item(
    body: CartItemAdd, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> CartPublic:
    await service.add(session, user.id, body.variant_id, body.quantity)
    return await _cart(session, user.id, settings.currency)


@router.patch(
    "/items/{variant_id}", summary="Change a line's quantity", responses=problem_responses(404)
)
async def update_item(
    variant_id: BigIdPath,
    body: CartItemUpdate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> CartPublic:
    await service.set_quantity(session, user.id, variant_id, body.quantity)
    return await _cart(session, user.id, settings.currency)


@router.delete("/items/{variant_id}", summary="Remove a line", responses=problem_responses(404))
async def remove_item(
    variant_id: BigIdPath, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> CartPublic:
    await service.remove(session, user.id, variant_id)
    return await _cart(session, user.id, settings.currency)
