from fastapi import APIRouter, status

from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import problem_responses
from roadmap_shared.ratelimit import RateLimit
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE
from social.dependencies import (
    ClientAddress,
    CurrentUser,
    RateLimiterDep,
    SessionDep,
    SettingsDep,
    TokenCodecDep,
)
from social.users import service
from social.users.schemas import AccessToken, LoginRequest, RegisterRequest, UserPublic

router = APIRouter(prefix="/api/users", tags=["users"], dependencies=[NO_STORE])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account",
    responses=problem_responses(409),
)
async def register(body: RegisterRequest, session: SessionDep) -> UserPublic:
    user = await service.register(
        session,
        username=body.username,
        email=body.email,
        display_name=body.display_name,
        bio=body.bio,
        password=body.password,
    )
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
    policy = RateLimit("login", settings.logins_per_minute_per_address, period_seconds=60)
    await limiter.enforce(policy, address)
    user = await service.authenticate(session, email=body.email, password=body.password)
    lifetime = settings.access_token_lifetime
    issued = codec.encode(subject=str(user.id), token_type=ACCESS_TOKEN_TYPE, lifetime=lifetime)
    return AccessToken(access_token=issued.token, expires_in=int(lifetime.total_seconds()))


@router.get("/me", summary="The signed-in user", responses=problem_responses(401))
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
