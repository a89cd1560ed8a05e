"""Per-token rate limits (API.md Part 2, "Rate limits"), with the `limits` package.

`STOCKROOM_RATE_LIMIT` is a list of limits such as `50/second;1000/minute` (off when empty,
the default). Every authenticated request counts against its token's limits (the token's
hash names the counters, never the token); beyond any of them the answer is 429
`rate_limited` with `Retry-After`. Every answer of a limited token says where it stands, by
the tightest of its limits, in the `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds) headers, with the whole `RateLimit-Policy` (`50;w=1, 1000;w=60`).

Counters live in Redis when `STOCKROOM_REDIS_URL` is set, so every worker and server shares
them; otherwise in the process (each worker counts alone). Windows are sliding-window
counters (limits' `SlidingWindowCounterRateLimiter`): no burst of twice the limit at a window
edge, and one counter pair per limit and token. Should Redis fail, requests go through (and a
warning is logged): a rate limit must not take the service down with it.

The limiter is built on a request's first use from the app's settings and kept on the app;
when the setting is empty the whole cost of a request is one attribute read.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from starlette.requests import Request
from starlette.responses import Response

from stockroom.auth.tokens import hash_token
from stockroom.errors import RateLimited
from stockroom.settings import Settings

log = logging.getLogger("stockroom.ratelimit")

# Prefix of the counters' keys in Redis (tests give each limiter its own).
KEY_PREFIX = "stockroom:ratelimit"


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a token stands against its tightest limit after a request."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    policy: str

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
            "RateLimit-Policy": self.policy,
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_seconds))
        return headers


class RateLimiter:
    """The limits of one setting, counted in one storage."""

    def __init__(
        self,
        spec: str,
        *,
        redis_url: str = "",
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        self.items: list[RateLimitItem] = parse_many(spec)
        if not self.items:
            raise ValueError(f"no rate limit in {spec!r}")
        self.storage: Storage
        self._pool: ConnectionPool | None = None
        if redis_url:
            # Our own pool, so that aclose() can let go of its connections.
            self._pool = ConnectionPool.from_url(redis_url.removeprefix("async+"))
            self.storage = RedisStorage(
                _async_redis_uri(redis_url),
                implementation="redispy",
                key_prefix=key_prefix,
                wrap_exceptions=True,
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
        else:
            self.storage = MemoryStorage(key_prefix=key_prefix)
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)
        self.policy = ", ".join(f"{item.amount};w={item.get_expiry()}" for item in self.items)

    async def hit(self, key: str) -> Standing | None:
        """Count one request of `key`; None when the storage cannot be reached."""
        try:
            allowed = True
            for item in self.items:
                if not await self.strategy.hit(item, key):
                    allowed = False
                    break
            tightest: Standing | None = None
            now = time.time()
            for item in self.items:
                stats = await self.strategy.get_window_stats(item, key)
                standing = Standing(
                    allowed=allowed,
                    limit=item.amount,
                    remaining=max(0, stats.remaining),
                    reset_seconds=max(0, math.ceil(stats.reset_time - now)),
                    policy=self.policy,
                )
                if tightest is None or _tighter(standing, tightest):
                    tightest = standing
            return tightest
        except StorageError as exc:
            log.warning("rate limit storage unavailable: %s", exc)
            return None

    async def aclose(self) -> None:
        """Close the connections to Redis (nothing to do for counters in the process)."""
        if self._pool is not None:
            await self._pool.disconnect()


def _tighter(one: Standing, other: Standing) -> bool:
    """Fewer requests left wins; on a tie, the one that frees up later."""
    return (one.remaining, -one.reset_seconds) < (other.remaining, -other.reset_seconds)


def _async_redis_uri(url: str) -> str:
    # limits names its asyncio storages `async+<scheme>://`.
    return url if url.startswith("async+") else f"async+{url}"


def limiter_for(settings: Settings) -> RateLimiter | None:
    """The limiter the settings ask for; None when rate limits are off."""
    if not settings.rate_limit.strip():
        return None
    return RateLimiter(settings.rate_limit, redis_url=settings.redis_url, key_prefix=KEY_PREFIX)


async def enforce_rate_limit(request: Request, response: Response, token: str) -> None:
    """Count an authenticated request against its token's limits (429 beyond them).

    Called once per request, by the authentication dependency, after the token is accepted.
    """
    state = request.app.state
    try:
        limiter: RateLimiter | None = state.rate_limiter
    except AttributeError:
        limiter = state.rate_limiter = limiter_for(state.settings)
    if limiter is None:
        return
    standing = await limiter.hit(hash_token(token))
    if standing is None:
        return
    if not standing.allowed:
        raise RateLimited(
            f"More than {standing.limit} requests in the window; retry later.",
            retry_after=standing.reset_seconds,
            headers=standing.headers(),
        )
    response.headers.update(standing.headers())
