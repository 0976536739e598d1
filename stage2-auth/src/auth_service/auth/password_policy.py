"""What a new password must be: long enough, not absurdly long, not the account's own email,
and not one of the passwords attackers try first.

No rules about digits or symbols: NIST SP 800-63B advises against them, because they make
passwords harder to remember without making them harder to guess.
"""

from functools import cache
from importlib.resources import files

from roadmap_shared.errors import FieldError, ProblemError

# argon2 first digests the password, so length barely changes the cost of a hash; the cap
# bounds the work one request can ask for, and no password manager needs more.
PASSWORD_MAX_LENGTH = 128
# A local part this short ("al@...") is a common substring, not a sign of a weak password.
SHORTEST_LOCAL_PART_CHECKED = 3


@cache
def common_passwords() -> frozenset[str]:
    text = files("auth_service.auth").joinpath("common_passwords.txt").read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


def password_problems(password: str, *, email: str, min_length: int) -> list[str]:
    """Every rule the password breaks, as messages for the user; empty when it is fine."""
    problems = []
    if len(password) < min_length:
        problems.append(f"Use at least {min_length} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"Use at most {PASSWORD_MAX_LENGTH} characters.")
    folded = password.casefold()
    local_part = email.rpartition("@")[0].casefold()
    if folded == email.casefold() or (
        len(local_part) >= SHORTEST_LOCAL_PART_CHECKED and local_part in folded
    ):
        problems.append("Do not use your email address in your password.")
    if folded in common_passwords():
        problems.append("This is one of the most common passwords; choose another.")
    return problems


def check_new_password(password: str, *, email: str, min_length: int, field: str) -> None:
    """Raises 422, shaped like a validation error on `field`, when the password breaks a rule."""
    if problems := password_problems(password, email=email, min_length=min_length):
        raise password_rejected(field, problems)


def password_rejected(field: str, problems: list[str]) -> ProblemError:
    return ProblemError(
        "The password does not meet the password policy; see `errors`.",
        status=422,
        extra={
            "errors": [
                FieldError(loc=["body", field], msg=problem, type="password_policy")
                for problem in problems
            ]
        },
    )
