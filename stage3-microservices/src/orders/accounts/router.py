from fastapi import APIRouter, status

from orders.accounts import service
from orders.accounts.schemas import AccessToken, LoginRequest, RegisterRequest, UserPublic
from orders.accounts.tokens import issue_access_token
from orders.dependencies import (
    CurrentUser,
    RateLimiterDep,
    SessionDep,
    SettingsDep,
    TokenSignerDep,
)
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import problem_responses
from roadmap_shared.ratelimit import RateLimit, account_key

# Every response here is about an account, or hands out a token: none may be cached.
router = APIRouter(prefix="/auth", tags=["accounts"], dependencies=[NO_STORE])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a customer account",
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
    signer: TokenSignerDep,
    limiter: RateLimiterDep,
) -> AccessToken:
    # Counted per account, before the password is checked, so guessing is slowed down
    # whichever address it comes from. (Redis down: each process counts on its own.)
    policy = RateLimit("login", settings.login_attempts_per_minute, period_seconds=60)
    await limiter.enforce(policy, account_key(body.email, secret=settings.rate_limit_key_secret))
    user = await service.authenticate(session, email=body.email, password=body.password)
    lifetime = settings.access_token_lifetime
    issued = issue_access_token(signer, user, lifetime)
    return AccessToken(access_token=issued.token, expires_in=int(lifetime.total_seconds()))


@router.get("/me", summary="The signed-in user", responses=problem_responses(401))
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
