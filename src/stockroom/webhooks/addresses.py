"""Where a webhook may be sent: the SSRF rules, as pure functions of an address.

A webhook URL is chosen by a tenant; the worker sends from inside our network. So a URL whose
host is (or resolves to) loopback, private, link-local, shared (CGNAT), multicast, reserved,
unspecified or documentation space is refused, and so is an IPv6 address that carries such
an IPv4 address inside it (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible, 6to4 `2002::/16`,
Teredo `2001::/32`, NAT64 `64:ff9b::/96`). The check runs when a URL is saved and again
before every request, on the very address the request then connects to (a name may resolve
elsewhere by then: DNS rebinding).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# Special-purpose blocks `ipaddress` counts as global in some Python versions.
_NOT_PUBLIC = (
    ipaddress.IPv4Network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.IPv4Network("192.88.99.0/24"),  # 6to4 relay anycast (deprecated)
)


@dataclass(frozen=True)
class Policy:
    """`allow_private`: any address (an operator's choice); `loopback_only`: nothing else."""

    allow_private: bool = False
    loopback_only: bool = False


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, 6to4, Teredo, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    packed = address.packed
    if packed[:12] == bytes(12) and int(address) > 1:  # deprecated ::a.b.c.d
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_public(address: Address) -> bool:
    """True when `address` is a globally routable unicast address (and so is what it wraps)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        inner = embedded_ipv4(address)
        if inner is not None and not is_public(inner):
            return False
    if isinstance(address, ipaddress.IPv4Address) and any(address in n for n in _NOT_PUBLIC):
        return False
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        or not address.is_global
    )


def is_loopback(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def refusal(address: Address, policy: Policy) -> str | None:
    """Why `address` may not be sent to under `policy`, or None when it may."""
    if policy.loopback_only and not is_loopback(address):
        return f"{address} is not a loopback address (STOCKROOM_WEBHOOK_LOOPBACK_ONLY)"
    if policy.allow_private or is_public(address):
        return None
    return (
        f"{address} is a loopback, private, link-local or reserved address "
        "(allowed only with STOCKROOM_WEBHOOK_ALLOW_PRIVATE=true)"
    )
