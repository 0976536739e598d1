"""Authentication endpoints: register, log in, read and update the current user."""

from fastapi import APIRouter, Response

from conduit.dependencies import (
    ClientAddress,
    ContentCacheDep,
    CurrentUser,
    PresentedToken,
    RateLimiterDep,
    SessionDep,
    SettingsDep,
    TokenCodecDep,
    Writer,
)
from conduit.errors import spec_errors
from conduit.rate_limits import (
    login_account_policy,
    login_address_policy,
    registration_policy,
)
from conduit.users import service
from conduit.users.schemas import LoginRequest, RegisterRequest, UpdateUserRequest, UserResponse
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.ratelimit import account_key

# Every response here is about an account, with its token: none may be cached.
router = APIRouter(tags=["User and Authentication"], dependencies=[NO_STORE])


@router.post("/users/login", summary="Log in", responses=spec_errors(401))
async def login(
    *,
    body: LoginRequest,
    address: ClientAddress,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    codec: TokenCodecDep,
    limiter: RateLimiterDep,
) -> UserResponse:
    decision = await limiter.enforce_all(
        [
            (login_address_policy(settings), address),
            (
                login_account_policy(settings),
                account_key(body.user.email, secret=settings.rate_limit_key_secret),
            ),
        ],
    )
    response.headers.update(decision.headers())
    user = await service.login(session, body.user.email, body.user.password)
    token = service.issue_token(codec, settings, user)
    return UserResponse(user=service.authenticated_user(user, token))


@router.post("/users", status_code=201, summary="Register", responses=spec_errors(409))
async def register(
    *,
    body: RegisterRequest,
    address: ClientAddress,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    codec: TokenCodecDep,
    limiter: RateLimiterDep,
) -> UserResponse:
    decision = await limiter.enforce(registration_policy(settings), address)
    response.headers.update(decision.headers())
    user = await service.register(session, body.user)
    token = service.issue_token(codec, settings, user)
    return UserResponse(user=service.authenticated_user(user, token))


# Only logging in and registering sign a token. The other user responses return the one
# the client sent: if reading /user signed a fresh one, whoever holds a leaked token could
# keep renewing it, and its expiry would limit nothing.
@router.get("/user", summary="Get the current user")
async def current_user(*, user: CurrentUser, token: PresentedToken) -> UserResponse:
    return UserResponse(user=service.authenticated_user(user, token))


@router.put("/user", summary="Update the current user", responses=spec_errors(403, 409))
async def update_current_user(
    *,
    body: UpdateUserRequest,
    user: Writer,
    token: PresentedToken,
    session: SessionDep,
    cache: ContentCacheDep,
) -> UserResponse:
    user = await service.update(session, cache, user, body.user)
    return UserResponse(user=service.authenticated_user(user, token))
