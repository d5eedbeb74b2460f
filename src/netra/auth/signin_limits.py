"""Rate limits for sign-in and registration: per account and per client IP, counted by
netra.ratelimit. `client_ip` believes X-Forwarded-For only from trusted proxies.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence

from starlette.requests import Request

from netra.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def parse_networks(items: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(item, strict=False) for item in items]


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: Request, trusted: Sequence[Network]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy, in which case
    the right-most X-Forwarded-For entry that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from beyond our proxies: fall back to what we know
    return peer


def address_bucket(address: str) -> str:
    """What per-address limits count by: an IPv4 address, or an IPv6 client's /64 (one
    subscriber holds a whole /64, so counting single addresses would not limit anyone).
    An IPv4-mapped IPv6 address counts as its IPv4 address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


__all__ = [
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "address_bucket",
    "client_ip",
    "parse_networks",
    "retry_after",
]
