"""Fixtures for suites that talk to Stripe. A suite imports them in its conftest.py:

    from roadmap_shared.testing.stripe_fixtures import (  # noqa: F401  (pytest collects them)
        localstripe_url,
        stripe_double,
    )

`stripe_double` is a fresh, empty Stripe double for the test (see
`roadmap_shared.testing.stripe_double`); `localstripe_url` is the address of localstripe
run for the test module alone (see `roadmap_shared.testing.localstripe`).
"""

from collections.abc import Iterator

import pytest

from roadmap_shared.testing.localstripe import localstripe
from roadmap_shared.testing.stripe_double import StripeDouble


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    with StripeDouble() as double:
        yield double


@pytest.fixture(scope="module")
def localstripe_url() -> Iterator[str]:
    with localstripe() as url:
        yield url
