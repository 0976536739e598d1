"""The rate limits on the endpoints that check passwords or send emails.

Limits count attempts, successful or not, and are checked before any password is hashed,
so a flood of guesses is refused before it costs CPU. Accounts are keyed by a keyed hash of
the normalised address (`roadmap_shared.ratelimit.account_key`): the limit holds however
the address is spelled, and Redis never holds the address itself.

A per-account limit lets anyone slow down sign-in for a victim's account by failing on
purpose. GCRA limits are soft (one attempt is given back every `window / limit` seconds)
rather than a lockout, which keeps that nuisance small.

Client addresses arrive as `ClientAddress` gives them, already keyed by what one client
controls (an IPv6 client by its /64).
"""

from auth_service.config import Settings
from roadmap_shared.ratelimit import RateLimit, RateLimiter, account_key


def _account_key(settings: Settings, email: str) -> str:
    return account_key(email, secret=settings.rate_limit_key_secret)


def _login_per_account(settings: Settings) -> RateLimit:
    return RateLimit(
        "login-account", settings.login_attempts_per_account, settings.login_window_seconds
    )


async def enforce_login_limits(
    limiter: RateLimiter, settings: Settings, *, email: str, address: str
) -> None:
    """429 when this client address, or this account, has tried to sign in too often.

    The address is checked first, so one client flooding many accounts does not use up
    the attempts of the accounts it names.
    """
    per_address = RateLimit(
        "login-address", settings.login_attempts_per_address, settings.login_window_seconds
    )
    await limiter.enforce(per_address, address)
    await limiter.enforce(_login_per_account(settings), _account_key(settings, email))


async def enforce_password_check_limit(
    limiter: RateLimiter, settings: Settings, *, email: str
) -> None:
    """Checking the current password (to change it) counts as a login attempt: otherwise a
    stolen access token would allow unlimited guesses at the password."""
    await limiter.enforce(_login_per_account(settings), _account_key(settings, email))


async def enforce_registration_limit(
    limiter: RateLimiter, settings: Settings, *, address: str
) -> None:
    policy = RateLimit(
        "register-address", settings.registrations_per_address, settings.registration_window_seconds
    )
    await limiter.enforce(policy, address)


async def enforce_email_limit(limiter: RateLimiter, settings: Settings, *, email: str) -> None:
    """Password reset and verification emails per account: nobody can fill an inbox."""
    policy = RateLimit("emails-account", settings.emails_per_account, settings.email_window_seconds)
    await limiter.enforce(policy, _account_key(settings, email))


async def enforce_reset_request_limit(
    limiter: RateLimiter, settings: Settings, *, email: str, address: str
) -> None:
    """Anyone may ask for a reset email to any address. Per account, nobody can fill one
    inbox; per client address, nobody can make us send mail to thousands of strangers
    (which would also get our mail server's reputation ruined)."""
    per_address = RateLimit(
        "reset-address", settings.reset_requests_per_address, settings.email_window_seconds
    )
    await limiter.enforce(per_address, address)
    await enforce_email_limit(limiter, settings, email=email)
