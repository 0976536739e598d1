from fastapi import APIRouter, status

from payments.customers import service
from payments.customers.schemas import (
    AccessToken,
    CustomerPublic,
    LoginRequest,
    RegisterRequest,
)
from payments.dependencies import (
    CurrentCustomer,
    RateLimiterDep,
    SessionDep,
    SettingsDep,
    TokenSignerDep,
)
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import problem_responses
from roadmap_shared.ratelimit import RateLimit, account_key
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE

# Every response here is about an account, or hands out a token: none may be cached.
router = APIRouter(prefix="/auth", tags=["customers"], dependencies=[NO_STORE])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a customer account",
    responses=problem_responses(409),
)
async def register(body: RegisterRequest, session: SessionDep) -> CustomerPublic:
    customer = await service.register(
        session, email=body.email, name=body.name, password=body.password
    )
    return CustomerPublic.model_validate(customer)


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
    # whichever address it comes from.
    policy = RateLimit("login", settings.login_attempts_per_minute, period_seconds=60)
    await limiter.enforce(policy, account_key(body.email, secret=settings.rate_limit_key_secret))
    customer = await service.authenticate(session, email=body.email, password=body.password)
    lifetime = settings.access_token_lifetime
    issued = signer.encode(
        subject=str(customer.id), token_type=ACCESS_TOKEN_TYPE, lifetime=lifetime
    )
    return AccessToken(access_token=issued.token, expires_in=int(lifetime.total_seconds()))


@router.get("/me", summary="The signed-in customer", responses=problem_responses(401))
async def me(customer: CurrentCustomer) -> CustomerPublic:
    return CustomerPublic.model_validate(customer)
