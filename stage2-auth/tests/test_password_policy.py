"""The password policy on its own: the rules, and the list it ships with."""

import pytest

from auth_service.auth.password_policy import common_passwords, password_problems

EMAIL = "grace.hopper@example.com"


def problems(password: str) -> list[str]:
    return password_problems(password, email=EMAIL, min_length=15)


def test_a_long_unusual_password_passes() -> None:
    assert problems("cobol compilers at dawn") == []


def test_length_counts_characters_not_bytes() -> None:
    assert problems("ééééééééééééééé") == []  # 15 characters, 30 bytes


@pytest.mark.parametrize(
    "password",
    ["grace.hopper@example.com", "GRACE.HOPPER@EXAMPLE.COM", "my name is grace.hopper!!"],
)
def test_the_email_address_cannot_be_the_password(password: str) -> None:
    assert problems(password) == ["Do not use your email address in your password."]


def test_a_very_short_local_part_is_not_treated_as_the_email() -> None:
    # "al" occurs in many good passwords.
    assert (
        password_problems("totally fine passphrase al", email="al@example.com", min_length=15) == []
    )


def test_common_passwords_are_refused_in_any_case() -> None:
    assert problems("QWERTYUIOPASDFGH") == [
        "This is one of the most common passwords; choose another."
    ]


def test_the_shipped_list_is_loaded_without_comments_or_blanks() -> None:
    passwords = common_passwords()
    assert "password" in passwords
    assert "correct horse battery staple" in passwords
    assert all(p and not p.startswith("#") and p == p.casefold() for p in passwords)


def test_every_broken_rule_is_reported_at_once() -> None:
    assert len(problems("password")) == 2  # too short, and common
