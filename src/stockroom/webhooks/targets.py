"""A webhook URL's target: parsed, resolved, and checked against the SSRF rules.

`resolve_target` is what both the API (when a URL is saved) and the sender (before every
request) call; the sender then connects to the checked address itself, never to the name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from stockroom.webhooks.addresses import Address, Policy, is_loopback, refusal

RESOLVE_SECONDS = 5.0


class TargetRefused(Exception):
    """The URL may not be sent to; the message says why (it names no secret)."""


@dataclass(frozen=True)
class Target:
    url: httpx.URL
    address: Address

    @property
    def connect_url(self) -> httpx.URL:
        """The URL with its host replaced by the checked address (Host and SNI keep the name)."""
        host = str(self.address)
        return self.url.copy_with(host=host)


def parse_url(raw: str) -> httpx.URL:
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise TargetRefused("not a valid URL") from None
    if url.scheme not in ("http", "https"):
        raise TargetRefused("the URL must start with http:// or https://")
    if not url.host:
        raise TargetRefused("the URL has no host")
    if url.userinfo:
        raise TargetRefused("the URL may not carry a user name or password")
    return url


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve_addresses(host: str, port: int, policy: Policy) -> list[Address]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    if policy.loopback_only and host.lower().rstrip(".") != "localhost":
        # Never look a name up (let alone connect) when only loopback may be reached.
        raise TargetRefused(f"{host} is not a loopback address (STOCKROOM_WEBHOOK_LOOPBACK_ONLY)")
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError):
        raise TargetRefused(f"{host} does not resolve") from None
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise TargetRefused(f"{host} does not resolve")
    return found


async def resolve_target(raw: str, policy: Policy) -> Target:
    """Parse `raw`, resolve its host and check every address; refuse if any is not allowed."""
    url = parse_url(raw)
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await resolve_addresses(url.host, port, policy)
    for address in addresses:
        reason = refusal(address, policy)
        if reason is not None:
            raise TargetRefused(reason)
    # Prefer loopback/IPv4 order as resolved; every address passed the check.
    chosen = next((a for a in addresses if is_loopback(a)), addresses[0])
    return Target(url, chosen)
