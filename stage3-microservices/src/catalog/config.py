"""Settings, read from `CATALOG_*` environment variables (and `.env`)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from roadmap_shared.messaging.topology import DEFAULT_EXCHANGE
from roadmap_shared.money import CURRENCY_EXPONENTS
from roadmap_shared.settings import DatabaseSettings
from roadmap_shared.storage.sigv4 import MAX_PRESIGNED_EXPIRY_SECONDS


class Settings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/catalog"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # Tokens are signed by the orders service (it logs users in); the catalog holds only
    # its public keys, fetched from this JWKS URL, so it can verify tokens but never mint one.
    jwks_url: str = "http://127.0.0.1:8002/.well-known/jwks.json"
    jwt_issuer: str = "orders"
    jwt_audience: str = "shop"
    # A token naming a key the catalog does not know makes it fetch the JWKS again (a
    # rotation), at most this often: made-up key ids must not flood the orders service.
    jwks_min_refetch_seconds: float = Field(default=30.0, gt=0)
    jwks_timeout_seconds: float = Field(default=2.0, gt=0)

    # A reservation holds stock for a checkout this long; unconfirmed, the stock returns.
    reservation_ttl_seconds: int = Field(default=300, gt=0, le=24 * 3600)

    # A confirmed sale that leaves a variant with this many units or fewer announces
    # `stock.low` (once per fall; a restock re-arms it).
    low_stock_threshold: int = Field(default=5, ge=0)

    # Events: the relay (`python -m catalog.worker`) publishes the outbox to this exchange,
    # checking for new rows every `relay_interval_seconds`. It touches `relay_heartbeat`
    # after each pass, which `python -m catalog.worker --check` reads (the health check).
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = DEFAULT_EXCHANGE
    relay_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    relay_heartbeat: Path = Path("var/catalog-relay.heartbeat")

    # Money. The shop sells in one currency; every amount is stored beside its currency,
    # so the data stays unambiguous if that ever changes.
    currency: str = "EUR"

    # Cache-aside for product pages and category listings; 0 turns it off (every read goes
    # to PostgreSQL: to measure the database path, or to debug).
    cache_ttl_seconds: int = Field(default=300, ge=0)
    cache_namespace: str = "catalog"

    # Product images: checked on upload, then stored by the backend chosen here.
    max_image_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    min_image_side: int = Field(default=64, gt=0)
    max_image_side: int = Field(default=4096, gt=0)
    storage_backend: Literal["local", "s3"] = "local"
    # local: files in a directory, served by this app under /media (or a CDN at media_url).
    media_dir: Path = Path("var/media")
    media_url: str = "/media"
    # s3: objects in a bucket of any S3-compatible service, addressed path-style
    # (`{endpoint}/{bucket}/{key}`). The default endpoint is a MinIO on this machine.
    s3_endpoint_url: str = "http://127.0.0.1:9000"
    s3_region: str = "us-east-1"
    s3_bucket: str = "shop-media"
    s3_access_key: str = ""
    s3_secret_key: SecretStr | None = None
    # Clients get presigned GET URLs that expire after this long (the bucket stays
    # private) unless s3_public_url is set: then plain URLs under it (a public bucket, a CDN).
    s3_url_expiry_seconds: int = Field(default=3600, ge=1, le=MAX_PRESIGNED_EXPIRY_SECONDS)
    s3_public_url: str = ""

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENTS:
            known = ", ".join(sorted(CURRENCY_EXPONENTS))
            raise ValueError(f"unsupported currency {value!r}; use one of {known}")
        return value

    @field_validator("s3_secret_key", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        # `CATALOG_S3_SECRET_KEY=`, as in .env.example, means no key, not an empty one.
        return None if value == "" else value

    @model_validator(mode="after")
    def _backends_fully_configured(self) -> Self:
        if self.storage_backend == "s3":
            if not self.s3_access_key or self.s3_secret_key is None:
                raise ValueError(
                    "CATALOG_STORAGE_BACKEND=s3 needs CATALOG_S3_ACCESS_KEY and "
                    "CATALOG_S3_SECRET_KEY"
                )
            # A cached product page is served for up to cache_ttl_seconds after its image
            # URLs were signed; each must still work for a while after it is handed out.
            presigning = not self.s3_public_url
            if presigning and self.s3_url_expiry_seconds < 2 * self.cache_ttl_seconds:
                raise ValueError(
                    "CATALOG_S3_URL_EXPIRY_SECONDS must be at least twice "
                    "CATALOG_CACHE_TTL_SECONDS, so that an image URL served from the cache "
                    "is still valid"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
