"""Settings, read from `SHOP_*` environment variables (and `.env`)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from roadmap_shared.security.settings import TokenSettings
from shop.money import CURRENCY_EXPONENTS


class Settings(TokenSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_")

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

    # Cache-aside for product pages and category listings. Off only for benchmarks.
    cache_enabled: bool = True
    cache_ttl_seconds: int = Field(default=300, gt=0)
    cache_namespace: str = "shop"

    # Product images, stored in a local directory and served by the app under /media.
    media_dir: Path = Path("var/media")
    # The URL prefix clients fetch images from: this app's `/media`, or a CDN in front.
    media_url: str = "/media"
    max_image_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    min_image_side: int = Field(default=64, gt=0)
    max_image_side: int = Field(default=4096, gt=0)

    # Email and background jobs.
    mail_dir: Path = Path("var/mail")
    mail_from: str = "Shop <orders@shop.example>"
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
