"""The emails this service sends.

Links carry their token in the fragment (after `#`): browsers do not send the fragment to
servers, so the token stays out of access logs and `Referer` headers on its way to the
front end, which reads it and posts it to the API.
"""

from auth_service.emails.sender import EmailMessage


def verification_email(*, to: str, frontend_url: str, token: str, hours: int) -> EmailMessage:
    return EmailMessage(
        to=to,
        subject="Confirm your email address",
        body=(
            "Confirm that this address is yours by opening this link:\n\n"
            f"{frontend_url.rstrip('/')}/verify-email#token={token}\n\n"
            f"The link works once, for {hours} hours. If you did not create an account, "
            "ignore this email."
        ),
    )


def password_reset_email(*, to: str, frontend_url: str, token: str, minutes: int) -> EmailMessage:
    return EmailMessage(
        to=to,
        subject="Reset your password",
        body=(
            "Someone asked to reset the password of your account. To choose a new one, "
            "open this link:\n\n"
            f"{frontend_url.rstrip('/')}/reset-password#token={token}\n\n"
            f"The link works once, for {minutes} minutes, and signs you out everywhere. "
            "If it was not you, ignore this email: your password has not changed."
        ),
    )
