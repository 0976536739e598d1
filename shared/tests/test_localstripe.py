"""localstripe, the Stripe emulator run beside the tests: on loopback only, and usable
through `stripe.StripeClient` for the flows it supports."""

from pathlib import Path

import pytest
import stripe

from tests.stripe_clients import client_for

LISTEN = "0A"  # the TCP state in /proc/net/tcp*
LOOPBACK_HEX = "0100007F"


def listening_addresses(port: int) -> set[str]:
    """The local addresses listening on `port`, as /proc/net/tcp{,6} write them."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == LISTEN:
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket tables")
def test_localstripe_listens_on_loopback_only(localstripe_url: str) -> None:
    port = int(localstripe_url.rsplit(":", 1)[1])
    assert listening_addresses(port) == {LOOPBACK_HEX}


def card(client: stripe.StripeClient, number: str) -> str:
    """localstripe knows Stripe's test card numbers, not the `pm_card_*` shortcuts
    (4000000000000341 is attached, then declined when charged)."""
    method = client.v1.payment_methods.create(
        params={"type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )  # fmt: skip
    return method.id


def test_a_payment_intent_is_created_and_confirmed(localstripe_url: str) -> None:
    client = client_for(localstripe_url, retries=1)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1200,
            "currency": "eur",
            "payment_method": card(client, "4242424242424242"),
        }
    )
    assert intent.status == "requires_confirmation"
    confirmed = client.v1.payment_intents.confirm(intent.id)
    assert confirmed.status == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_a_declined_card_raises_card_error(localstripe_url: str) -> None:
    client = client_for(localstripe_url)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1200,
            "currency": "eur",
            "payment_method": card(client, "4000000000000341"),
        }
    )
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(intent.id)
