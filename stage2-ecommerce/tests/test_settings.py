"""Settings refuse combinations that would fail later, or quietly do the unsafe thing."""

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from roadmap_shared.mail import FileMailer
from roadmap_shared.smtp import SmtpMailer, build_mailer
from roadmap_shared.storage.factory import build_storage
from roadmap_shared.storage.local import LocalImageStorage
from roadmap_shared.storage.s3 import S3ImageStorage
from tests.conftest import make_settings

S3_KEYS = {"s3_access_key": "shop", "s3_secret_key": SecretStr("a-real-secret")}


def test_the_defaults_are_a_local_directory_and_mail_files(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)

    assert isinstance(build_storage(settings), LocalImageStorage)
    assert isinstance(build_mailer(settings), FileMailer)


async def test_the_backends_are_chosen_by_setting(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, storage_backend="s3", **S3_KEYS, mail_backend="smtp", smtp_security="none"
    )

    storage = build_storage(settings)
    await storage.close()
    assert isinstance(storage, S3ImageStorage)
    assert isinstance(build_mailer(settings), SmtpMailer)


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"storage_backend": "s3"}, "SHOP_S3_ACCESS_KEY and SHOP_S3_SECRET_KEY"),
        ({"storage_backend": "s3", "s3_access_key": "shop"}, "SHOP_S3_SECRET_KEY"),
        (
            {"storage_backend": "s3", **S3_KEYS, "s3_url_expiry_seconds": 500},  # TTL 300
            "at least twice SHOP_CACHE_TTL_SECONDS",
        ),
        ({"smtp_username": "shop"}, "SHOP_SMTP_PASSWORD is not"),
        (
            {"smtp_username": "shop", "smtp_password": SecretStr("pw"), "smtp_security": "none"},
            "plain text",
        ),
        ({"storage_backend": "ftp"}, "storage_backend"),
        ({"mail_backend": "pigeon"}, "mail_backend"),
    ],
)
def test_incomplete_or_unsafe_backend_settings_are_refused(
    tmp_path: Path, overrides: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        make_settings(tmp_path, **overrides)


def test_a_public_url_needs_no_expiry_margin(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        storage_backend="s3",
        **S3_KEYS,
        cache_ttl_seconds=3600,
        s3_public_url="https://cdn.shop.example",
    )

    assert settings.s3_public_url == "https://cdn.shop.example"


def test_an_empty_secret_means_unset(tmp_path: Path) -> None:
    # As .env.example leaves them; outside development an empty secret would be refused.
    settings = make_settings(tmp_path, s3_secret_key="", smtp_password="")

    assert (settings.s3_secret_key, settings.smtp_password) == (None, None)
