"""What the per-address rate limits count as one client."""

import pytest

from auth_service.auth.rate_limits import address_key


def test_an_ipv4_address_is_its_own_key() -> None:
    assert address_key("192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") != address_key("192.0.2.2")


@pytest.mark.parametrize("address", ["2001:db8::1", "2001:db8::ffff:1", "2001:DB8:0:0:1::1"])
def test_ipv6_addresses_are_keyed_by_their_64_network(address: str) -> None:
    assert address_key(address) == "2001:db8::/64"


def test_an_ipv4_client_on_a_dual_stack_socket_is_keyed_as_ipv4() -> None:
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"


def test_a_peer_without_an_ip_address_keeps_its_name() -> None:
    assert address_key("unknown") == "unknown"
