"""The SSRF rule on addresses themselves: every non-public range is refused (no network)."""

from __future__ import annotations

import ipaddress

import pytest

from stockroom.webhooks.addresses import Policy, is_public, refusal
from stockroom.webhooks.targets import TargetRefused, parse_url, resolve_addresses

REFUSED = [
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "0.0.0.0",  # unspecified  # noqa: S104
    "10.0.0.1",  # private
    "172.16.5.4",
    "172.31.255.255",
    "192.168.0.10",
    "100.64.0.1",  # shared address space (CGNAT)
    "169.254.169.254",  # link-local (cloud metadata)
    "192.0.0.8",  # IETF protocol assignments
    "192.88.99.1",  # 6to4 relay anycast
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.251",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",  # broadcast
    "::",
    "::1",
    "fe80::1",  # link-local
    "fc00::1",  # unique local
    "fd00:ec2::254",
    "fec0::1",  # site-local (deprecated)
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.1.2.3",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "100::1",  # discard-only
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::1"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert not is_public(ip)
    assert refusal(ip, Policy()) is not None
    assert refusal(ip, Policy(allow_private=True)) is None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert is_public(ip)
    assert refusal(ip, Policy()) is None
    # The test suite's own guard: nothing but loopback, whatever else is allowed.
    assert refusal(ip, Policy(allow_private=True, loopback_only=True)) is not None


def test_only_loopback_passes_the_loopback_only_guard() -> None:
    guard = Policy(allow_private=True, loopback_only=True)
    for address in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"):
        assert refusal(ipaddress.ip_address(address), guard) is None
    for address in ("10.0.0.1", "169.254.169.254", "0.0.0.0"):  # noqa: S104
        assert refusal(ipaddress.ip_address(address), guard) is not None


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "file:///etc/passwd", "http:///x", "http://u:p@example.com/", "x"],
)
def test_urls_that_are_not_plain_http_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        parse_url(url)


async def test_names_are_not_even_looked_up_when_only_loopback_may_be_reached() -> None:
    with pytest.raises(TargetRefused, match="not a loopback"):
        await resolve_addresses("example.com", 443, Policy(loopback_only=True))
    assert await resolve_addresses("localhost", 80, Policy(loopback_only=True))
