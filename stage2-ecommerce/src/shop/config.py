"""Settings, read from `SHOP_*` environment variables (and `.env`)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from roadmap_shared.money import CURRENCY_EXPONENTS
from roadmap_shared.security.settings import TokenSettings
from roadmap_shared.settings import DatabaseSettings
from roadmap_shared.storage.sigv4 import MAX_PRESIGNED_EXPIRY_SECONDS


class Settings(TokenSettings, DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_")

    # Tokens name this service: another service's token is refused even with the same key.
    jwt_issuer: str = "shop"
    jwt_audience: str = "shop"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/shop"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # Failed or not, login attempts per email per minute: slows down password guessing.
    login_attempts_per_minute: int = Field(default=10, gt=0)

    # Money. The shop sells in one currency; every amount is stored beside its currency,
    # so the data stays unambiguous if that ever changes.
    currency: str = "EUR"
    # Sales tax (VAT) added to the subtotal at checkout, in basis points: 2000 = 20 %.
    tax_rate_basis_points: int = Field(default=2000, ge=0, le=10_000)
    # A checkout that leaves a variant with this many or fewer emails the admins.
    low_stock_threshold: int = Field(default=5, ge=0)

    # Cache-aside for product pages and category listings; 0 turns it off (every read goes
    # to PostgreSQL: to measure the database path, or to debug).
    cache_ttl_seconds: int = Field(default=300, ge=0)
    cache_namespace: str = "shop"

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

    # Email: written to files in mail_dir, or sent through an SMTP server.
    mail_backend: Literal["file", "smtp"] = "file"
    mail_from: str = "Shop <orders@shop.example>"
    mail_dir: Path = Path("var/mail")
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # starttls: upgrade a plain connection (port 587); tls: TLS from the first byte (465);
    # none: plain text, for a relay on the same host or a development catcher only.
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""  # empty: do not log in
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    # Background jobs.
    jobs_queue: str = "shop:jobs"
    # A job that fails for a passing reason is retried after base, 2 x base, 4 x base, ...
    job_retry_base_seconds: float = Field(default=5.0, gt=0)
    job_max_tries: int = Field(default=5, ge=1)
    outbox_poll_seconds: int = Field(default=1, ge=1, le=59)
    idempotency_key_hours: int = Field(default=24, gt=0)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENTS:
            known = ", ".join(sorted(CURRENCY_EXPONENTS))
            raise ValueError(f"unsupported currency {value!r}; use one of {known}")
        return value

    @field_validator("s3_secret_key", "smtp_password", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        # `SHOP_SMTP_PASSWORD=`, as in .env.example, means no password, not an empty one.
        return None if value == "" else value

    @model_validator(mode="after")
    def _backends_fully_configured(self) -> Self:
        if self.storage_backend == "s3":
            if not self.s3_access_key or self.s3_secret_key is None:
                raise ValueError(
                    "SHOP_STORAGE_BACKEND=s3 needs SHOP_S3_ACCESS_KEY and SHOP_S3_SECRET_KEY"
                )
            # A cached product page is served for up to cache_ttl_seconds after its image
            # URLs were signed; each must still work for a while after it is handed out.
            presigning = not self.s3_public_url
            if presigning and self.s3_url_expiry_seconds < 2 * self.cache_ttl_seconds:
                raise ValueError(
                    "SHOP_S3_URL_EXPIRY_SECONDS must be at least twice SHOP_CACHE_TTL_SECONDS, "
                    "so that an image URL served from the cache is still valid"
                )
        if self.smtp_username:
            if self.smtp_password is None:
                raise ValueError("SHOP_SMTP_USERNAME is set but SHOP_SMTP_PASSWORD is not")
            if self.smtp_security == "none":
                raise ValueError(
                    "SHOP_SMTP_USERNAME needs SHOP_SMTP_SECURITY=starttls or tls: "
                    "the password must not cross the network in plain text"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
