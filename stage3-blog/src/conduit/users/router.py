"""Authentication endpoints: register, log in, read and update the current user."""

from fastapi import APIRouter, Request, Response

from conduit.dependencies import (
    CacheDep,
    CurrentUser,
    PresentedToken,
    RateLimiterDep,
    SessionDep,
    SettingsDep,
    TokenCodecDep,
    Writer,
)
from conduit.ratelimits import (
    enforce_all,
    login_account_policy,
    login_address_policy,
    registration_policy,
)
from conduit.users import service
from conduit.users.schemas import LoginRequest, RegisterRequest, UpdateUserRequest, UserResponse
from roadmap_shared.ratelimit import client_address_key

router = APIRouter(tags=["User and Authentication"])


def _client_address(request: Request) -> str:
    # The TCP peer, or what a proxy named in BLOG_FORWARDED_ALLOW_IPS says it forwarded
    # for; keyed by what one client controls (an IPv6 client, its whole /64).
    return client_address_key(request.client.host) if request.client else "unknown"


@router.post("/users/login", summary="Log in")
async def login(
    *,
    body: LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    codec: TokenCodecDep,
    limiter: RateLimiterDep,
) -> UserResponse:
    decision = await enforce_all(
        limiter,
        [
            (login_address_policy(settings), _client_address(request)),
            (login_account_policy(settings), body.user.email.lower()),
        ],
    )
    response.headers.update(decision.headers())
    user = await service.login(session, body.user.email, body.user.password)
    token = service.issue_token(codec, settings, user)
    return UserResponse(user=service.authenticated_user(user, token))


@router.post("/users", status_code=201, summary="Register")
async def register(
    *,
    body: RegisterRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    codec: TokenCodecDep,
    limiter: RateLimiterDep,
) -> UserResponse:
    decision = await limiter.enforce(registration_policy(settings), _client_address(request))
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


@router.put("/user", summary="Update the current user")
async def update_current_user(
    *,
    body: UpdateUserRequest,
    user: Writer,
    token: PresentedToken,
    session: SessionDep,
    cache: CacheDep,
) -> UserResponse:
    user = await service.update(session, cache, user, body.user)
    return UserResponse(user=service.authenticated_user(user, token))
