"""A stateful test double of Stripe's API at the HTTP layer, for `stripe.StripeClient`.

See `StripeDouble`, and shared/README.md for what it serves and what it checks.
"""

from roadmap_shared.testing.stripe_double.app import RecordedRequest
from roadmap_shared.testing.stripe_double.double import StripeDouble

__all__ = ["RecordedRequest", "StripeDouble"]
