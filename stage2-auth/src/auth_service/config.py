"""Settings for the auth service, read from `AUTH_*` environment variables (or `.env`).

The JWT settings (`AUTH_JWT_KEYS`, `AUTH_JWT_ACTIVE_KID`, issuer, audience and the access
token's lifetime) come from `TokenSettings`; what is added here is this stage's own.
"""

from datetime import timedelta
from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from roadmap_shared.security.settings import TokenSettings
from roadmap_shared.settings import DatabaseSettings


class Settings(TokenSettings, DatabaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTH_", env_file=".env", extra="ignore", frozen=True
    )

    # Tokens name this service: another service's token is refused even with the same key.
    jwt_issuer: str = "auth-service"
    jwt_audience: str = "auth-service"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/auth"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # The largest body a client needs to send is a task with 10,000 characters of notes
    # (at most 40 kB in UTF-8); anything bigger is refused with 413 before it is read.
    max_body_bytes: int = Field(default=65_536, gt=0)

    # A refresh token lives this long unless it is used first; each use (rotation) gives a
    # new one, so a client that comes back at least this often stays signed in...
    refresh_token_days: int = Field(default=14, gt=0)
    # ...but never longer than this after the password was typed: a session (one login and
    # every refresh token it rotates through) has an absolute end.
    session_max_days: int = Field(default=60, gt=0)

    # NIST SP 800-63B-4 asks for at least 15 characters when a password is the only factor,
    # as here: length, not forced symbols, is what makes a password hard to guess.
    password_min_length: int = Field(default=15, ge=8)

    # Links in emails: short-lived and single use.
    password_reset_minutes: int = Field(default=30, gt=0)
    email_verification_hours: int = Field(default=48, gt=0)
    # Where the links in emails point: the page of your front end that reads the token from
    # the URL and calls the API (see the README).
    frontend_url: str = "http://127.0.0.1:8000"
    email_sender_address: str = "Backend Roadmap <no-reply@example.com>"

    # Rate limits (GCRA in Redis): bursts up to the limit, then the limit's steady rate.
    # Login attempts, per account (guessing one password) and per client address (trying
    # many accounts from one place).
    login_attempts_per_account: int = Field(default=10, gt=0)
    login_attempts_per_address: int = Field(default=100, gt=0)
    login_window_seconds: int = Field(default=900, gt=0)
    # Registrations per client address: each one costs a password hash and sends an email.
    registrations_per_address: int = Field(default=20, gt=0)
    registration_window_seconds: int = Field(default=3600, gt=0)
    # Emails a person can ask for (password reset, verification), per account...
    emails_per_account: int = Field(default=3, gt=0)
    # ...and password reset requests per client address, whatever the accounts they name.
    reset_requests_per_address: int = Field(default=20, gt=0)
    email_window_seconds: int = Field(default=3600, gt=0)

    @property
    def refresh_token_lifetime(self) -> timedelta:
        return timedelta(days=self.refresh_token_days)

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(days=self.session_max_days)

    @property
    def password_reset_lifetime(self) -> timedelta:
        return timedelta(minutes=self.password_reset_minutes)

    @property
    def email_verification_lifetime(self) -> timedelta:
        return timedelta(hours=self.email_verification_hours)


@lru_cache
def get_settings() -> Settings:
    return Settings()
