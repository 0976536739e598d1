"""Settings read from the environment (twelve-factor), with `.env` support.

Each stage subclasses `AppSettings` with its own `env_prefix`, so two stages running on
one machine never read each other's variables.
"""

from enum import StrEnum
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The default for signing keys in development: known to everyone, so refused elsewhere.
DEVELOPMENT_SECRET = "insecure-development-secret-change-me-before-deploying"  # noqa: S105
# A secret still holding one of these values was copied from `.env.example` and never set.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", DEVELOPMENT_SECRET})


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Environment = Environment.DEVELOPMENT
    log_level: str = "INFO"
    # Where `python -m <stage>` listens. Containers set the host to 0.0.0.0.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (their addresses, or
    # "*" inside a private network). Empty: the client address is the TCP peer's, so
    # behind a proxy every client would look like the proxy, one rate-limit bucket for all.
    forwarded_allow_ips: list[str] = Field(default_factory=list)
    # Origins allowed to call the API from a browser; empty means no cross-origin access.
    cors_origins: list[str] = Field(default_factory=list)
    # Requests with a larger body are refused with 413 before the body is read.
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    # A request's line and headers together; a larger head gets 431 before it is buffered.
    max_header_bytes: int = Field(default=16_384, ge=1024)
    # A body must arrive within this many seconds of the request, or the request gets 408:
    # a client announcing a long body and sending it slowly (or never) cannot hold a
    # connection and a worker for ever. A request's head has the same deadline.
    body_read_timeout_seconds: float = Field(default=30.0, gt=0)
    # Who may read `/metrics`: with a token, only `Authorization: Bearer <token>`; without
    # one, everyone in development and test, nobody in production (see `metrics.py`).
    metrics_token: SecretStr | None = None

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_means_no_token(cls, value: object) -> object:
        # `PREFIX_METRICS_TOKEN=` (as in `.env.example`) means "no token", not the token "".
        return None if value == "" else value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        if self.environment is Environment.DEVELOPMENT:
            return self
        prefix = str(self.model_config.get("env_prefix", ""))
        for name, value in self:
            secrets = value.values() if isinstance(value, dict) else [value]
            if any(
                isinstance(secret, SecretStr) and secret.get_secret_value() in PLACEHOLDER_SECRETS
                for secret in secrets
            ):
                raise ValueError(
                    f"{(prefix + name).upper()} is unset or a placeholder; "
                    f"set a real secret outside development"
                )
        return self


# A database that does not answer must fail a request quickly (503, see
# `roadmap_shared.outages`), not hold it, and its connection, for as long as it hangs.
CONNECT_TIMEOUT_SECONDS = 5.0
STATEMENT_TIMEOUT_SECONDS = 15.0
POOL_TIMEOUT_SECONDS = 5.0


class DatabaseSettings(AppSettings):
    """The settings of a stage with PostgreSQL (see `roadmap_shared.database.Database`).

    The timeouts bound how long a request waits for a database that does not answer
    before it gets 503: to connect, for one statement, for a free pooled connection."""

    database_url: str
    database_connect_timeout_seconds: float = Field(default=CONNECT_TIMEOUT_SECONDS, gt=0)
    database_statement_timeout_seconds: float = Field(default=STATEMENT_TIMEOUT_SECONDS, gt=0)
    database_pool_timeout_seconds: float = Field(default=POOL_TIMEOUT_SECONDS, gt=0)
