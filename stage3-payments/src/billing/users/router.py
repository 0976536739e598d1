from fastapi import APIRouter, status

from billing.dependencies import (
    ClientAddress,
    CurrentUser,
    RateLimiterDep,
    SessionDep,
    SettingsDep,
    TokenCodecDep,
)
from billing.users import service
from billing.users.schemas import AccessToken, LoginRequest, RegisterRequest, UserPublic
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import problem_responses
from roadmap_shared.ratelimit import RateLimit, account_key
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE

router = APIRouter(prefix="/users", tags=["users"], dependencies=[NO_STORE])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account",
    responses=problem_responses(409),
)
async def register(body: RegisterRequest, session: SessionDep) -> UserPublic:
    user = await service.register(session, email=body.email, name=body.name, password=body.password)
    return UserPublic.model_validate(user)


@router.post(
    "/login",
    summary="Exchange email and password for an access token",
    responses=problem_responses(401, 429),
)
async def login(
    *,
    body: LoginRequest,
    session: SessionDep,
    settings: SettingsDep,
    codec: TokenCodecDep,
    limiter: RateLimiterDep,
    address: ClientAddress,
) -> AccessToken:
    # Per address (one client trying many accounts) and per account (many addresses
    # guessing one password), both counted before the password is checked.
    await limiter.enforce_all(
        [
            (RateLimit("login-address", settings.logins_per_minute_per_address, 60), address),
            (
                RateLimit("login-account", settings.logins_per_minute_per_account, 60),
                account_key(body.email, secret=settings.rate_limit_key_secret),
            ),
        ]
    )
    user = await service.authenticate(session, email=body.email, password=body.password)
    lifetime = settings.access_token_lifetime
    issued = codec.encode(subject=str(user.id), token_type=ACCESS_TOKEN_TYPE, lifetime=lifetime)
    return AccessToken(access_token=issued.token, expires_in=int(lifetime.total_seconds()))


@router.get("/me", summary="The signed-in user", responses=problem_responses(401))
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
