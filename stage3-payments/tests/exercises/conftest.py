"""Fixtures of the exercises on the shared Stripe double: a module that runs there
overrides `app` with one on `settings_on_double`."""

import pytest
from httpx import AsyncClient

from billing.config import Settings
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.exercises.stripe_side import StripeSide
from tests.factories import plan_prices


@pytest.fixture
def settings_on_double(settings: Settings, stripe_double: StripeDouble) -> Settings:
    return settings.model_copy(
        update={
            "stripe_api_base": stripe_double.base_url,
            "plan_prices": plan_prices(stripe_double),
        }
    )


@pytest.fixture
def at_stripe(
    committing_client: AsyncClient, stripe_double: StripeDouble, settings_on_double: Settings
) -> StripeSide:
    return StripeSide(committing_client, stripe_double, settings_on_double)
