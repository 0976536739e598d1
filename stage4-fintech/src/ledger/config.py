"""Settings for the ledger, read from `LEDGER_*` environment variables (or `.env`)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from roadmap_shared.settings import DatabaseSettings


class Settings(DatabaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGER_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/ledger"
    # The gRPC API (the other services' way in); the HTTP API is on `port`.
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50051, ge=0, le=65535)  # 0: any free port (tests)
    # Transfers per CreateTransfers request: one transaction holds all their locks.
    max_batch_size: int = Field(default=1000, gt=0)
    # How often pending transfers past their timeout are expired, and the gauges refreshed.
    maintenance_every_seconds: float = Field(default=5.0, gt=0)
    # Transactions PostgreSQL aborted (a deadlock, a serialization failure) are run again
    # this many times before the caller gets UNAVAILABLE.
    transaction_attempts: int = Field(default=3, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
