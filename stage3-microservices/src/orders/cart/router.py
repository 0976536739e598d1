from fastapi import APIRouter

from orders.cart import service
from orders.cart.schemas import CartItemAdd, CartItemUpdate, CartPublic, cart_public
from orders.dependencies import CurrentUser, SessionDep
from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import BigIdPath

router = APIRouter(prefix="/cart", tags=["cart"], responses=problem_responses(401))

# Every route answers with the whole cart, so a client redraws it from one response.


async def _cart(session: SessionDep, user_id: int) -> CartPublic:
    return cart_public(list(await service.items(session, user_id)))


@router.get("", summary="Your cart")
async def get_cart(user: CurrentUser, session: SessionDep) -> CartPublic:
    return await _cart(session, user.id)


@router.post(
    "/items",
    summary="Add a variant (adds to the quantity if it is already in the cart)",
    responses=problem_responses(409),
)
async def add_item(body: CartItemAdd, user: CurrentUser, session: SessionDep) -> CartPublic:
    await service.add(session, user.id, body.variant_id, body.quantity)
    return await _cart(session, user.id)


@router.patch(
    "/items/{variant_id}", summary="Change a line's quantity", responses=problem_responses(404)
)
async def update_item(
    variant_id: BigIdPath,
    body: CartItemUpdate,
    user: CurrentUser,
    session: SessionDep,
) -> CartPublic:
    await service.set_quantity(session, user.id, variant_id, body.quantity)
    return await _cart(session, user.id)


@router.delete("/items/{variant_id}", summary="Remove a line", responses=problem_responses(404))
async def remove_item(variant_id: BigIdPath, user: CurrentUser, session: SessionDep) -> CartPublic:
    await service.remove(session, user.id, variant_id)
    return await _cart(session, user.id)
