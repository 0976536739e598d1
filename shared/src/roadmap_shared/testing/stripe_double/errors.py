"""Stripe's error bodies: `{"error": {"type", "code", "message", "param", ...}}` with the
HTTP status Stripe uses for each kind, so the `stripe` package raises the same exception
classes (`CardError`, `InvalidRequestError`, `IdempotencyError`, ...) as in production."""

from typing import Any

from roadmap_shared.testing.stripe_double.templates import JSONObject


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: JSONObject | None = None,
        saved: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSONObject = {"type": error_type, "message": message}
        # Stripe leaves out the fields that do not apply rather than sending null.
        optional: dict[str, Any] = {"code": code, "param": param, "decline_code": decline_code}
        self.body.update({key: value for key, value in optional.items() if value is not None})
        self.body.update(extra or {})
        # Stripe saves an idempotent result only once the endpoint has started executing:
        # a request refused while its parameters were read can be retried with the same key.
        self.saved = saved

    def response_body(self) -> JSONObject:
        return {"error": self.body}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    """A parameter Stripe would refuse before doing anything (not saved for replay)."""
    return StripeError(400, message, param=param, code=code, saved=False)


def missing(object_name: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        404, f"No such {object_name}: '{object_id}'", code="resource_missing", param=param
    )


def unexpected_state(message: str) -> StripeError:
    return StripeError(400, message, code="payment_intent_unexpected_state")


def injected(status: int) -> StripeError:
    """The error a test asked for with `fail_next`: what Stripe sends for that status."""
    if status == 409:
        return StripeError(
            409,
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it.",
            code="lock_timeout",
            saved=False,
        )
    if status == 429:
        return StripeError(
            429, "Too many requests hit the API too quickly.", code="rate_limit", saved=False
        )
    return StripeError(
        status,
        "An unknown error occurred. Please retry the request.",
        error_type="api_error",
        saved=False,
    )
