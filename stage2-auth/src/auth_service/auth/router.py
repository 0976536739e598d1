from typing import Annotated

from fastapi import APIRouter, Depends, status

from auth_service.auth import email_flows, service
from auth_service.auth.login_form import LOGIN_REQUEST_BODY, read_login_request
from auth_service.auth.rate_limits import (
    enforce_email_limit,
    enforce_login_limits,
    enforce_password_check_limit,
    enforce_registration_limit,
    enforce_reset_request_limit,
)
from auth_service.auth.schemas import (
    Accepted,
    EmailVerificationConfirmation,
    LoginRequest,
    PasswordChangeRequest,
    PasswordResetConfirmation,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
)
from auth_service.dependencies import (
    Authenticated,
    ClientAddress,
    CurrentUser,
    EmailOutboxDep,
    HashingSlotsDep,
    RateLimiterDep,
    SessionDep,
    SettingsDep,
    TokenCodecDep,
)
from auth_service.users.schemas import UserPublic
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import problem_responses

# Every response here is about an account, and many hand out tokens: none may be cached.
router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[NO_STORE])


def token_response(tokens: service.IssuedTokens) -> TokenResponse:
    return TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.access_token_expires_in,
        refresh_token=tokens.refresh_token,
        refresh_token_expires_in=tokens.refresh_token_expires_in,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account; a verification email is sent",
    responses=problem_responses(409, 429),
)
async def register(
    *,
    data: RegisterRequest,
    session: SessionDep,
    settings: SettingsDep,
    outbox: EmailOutboxDep,
    limiter: RateLimiterDep,
    address: ClientAddress,
) -> UserPublic:
    await enforce_registration_limit(limiter, settings, address=address)
    user = await service.register(session, settings, outbox, data)
    return UserPublic.model_validate(user)


@router.post(
    "/login",
    summary="Sign in with a password: JSON, or the OAuth2 password form",
    openapi_extra=LOGIN_REQUEST_BODY,
    responses=problem_responses(401, 403, 415, 429),
)
async def login(
    *,
    credentials: Annotated[LoginRequest, Depends(read_login_request)],
    session: SessionDep,
    settings: SettingsDep,
    codec: TokenCodecDep,
    hashing_slots: HashingSlotsDep,
    limiter: RateLimiterDep,
    address: ClientAddress,
) -> TokenResponse:
    await enforce_login_limits(limiter, settings, email=credentials.email, address=address)
    tokens = await service.login(
        session,
        settings,
        codec,
        hashing_slots,
        email=credentials.email,
        password=credentials.password,
    )
    return token_response(tokens)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair (the old one is used up)",
    responses=problem_responses(401),
)
async def refresh(
    data: RefreshRequest,
    session: SessionDep,
    settings: SettingsDep,
    codec: TokenCodecDep,
) -> TokenResponse:
    tokens = await service.refresh(session, settings, codec, data.refresh_token)
    return token_response(tokens)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this session: its access and refresh tokens stop working",
    responses=problem_responses(401),
)
async def logout(authentication: Authenticated, session: SessionDep) -> None:
    await service.logout(session, authentication)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End every session of the current user",
    responses=problem_responses(401),
)
async def logout_all(user: CurrentUser, session: SessionDep) -> None:
    await service.logout_everywhere(session, user)


@router.post(
    "/change-password",
    summary="Change the password; every session ends and this client gets a new one",
    responses=problem_responses(400, 401, 429),
)
async def change_password(
    *,
    data: PasswordChangeRequest,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    codec: TokenCodecDep,
    limiter: RateLimiterDep,
) -> TokenResponse:
    await enforce_password_check_limit(limiter, settings, email=user.email)
    tokens = await service.change_password(
        session,
        settings,
        codec,
        user,
        current_password=data.current_password,
        new_password=data.new_password,
    )
    return token_response(tokens)


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email a password reset link, if the address has an account",
    description="The answer is the same whether or not the address has an account.",
    responses=problem_responses(429),
)
async def request_password_reset(
    *,
    data: PasswordResetRequest,
    session: SessionDep,
    settings: SettingsDep,
    outbox: EmailOutboxDep,
    limiter: RateLimiterDep,
    address: ClientAddress,
) -> Accepted:
    await enforce_reset_request_limit(limiter, settings, email=data.email, address=address)
    await email_flows.request_password_reset(session, settings, outbox, data.email)
    return Accepted(detail="If this address has an account, a reset link is on its way.")


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with the token from the email; every session ends",
    responses=problem_responses(400),
)
async def reset_password(
    data: PasswordResetConfirmation, session: SessionDep, settings: SettingsDep
) -> None:
    await email_flows.reset_password(
        session, settings, token=data.token, new_password=data.new_password
    )


@router.post(
    "/verify-email",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new verification email to the current user",
    responses=problem_responses(401, 409, 429),
)
async def request_email_verification(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    outbox: EmailOutboxDep,
    limiter: RateLimiterDep,
) -> Accepted:
    await enforce_email_limit(limiter, settings, email=user.email)
    await email_flows.send_verification_email(session, settings, outbox, user)
    return Accepted(detail=f"A verification link is on its way to {user.email}.")


@router.post(
    "/verify-email/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Confirm the email address with the token from the email",
    responses=problem_responses(400),
)
async def verify_email(data: EmailVerificationConfirmation, session: SessionDep) -> None:
    await email_flows.verify_email(session, data.token)
