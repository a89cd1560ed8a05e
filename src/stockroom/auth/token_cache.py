"""A short-lived, per-process cache of token → Principal, to spare the lookup on every request.

Bound on staleness: a token revoked in another process (the CLI, another worker) keeps
working here for at most `STOCKROOM_AUTH_CACHE_SECONDS` (default 5 s); a revocation made in
this process clears the cache at once. It never holds a stock figure, only who the caller
is, so it cannot change a stock number. 0 turns it off.
"""

from __future__ import annotations

import time

from stockroom.auth.principal import Principal

MAX_ENTRIES = 10_000


class TokenCache:
    def __init__(self, ttl_seconds: float = 5.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token_hash: str) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(token_hash, None)
            return None
        return entry[1]

    def put(self, token_hash: str, principal: Principal) -> None:
        if self.ttl_seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # crude, but bounded; a full cache refills in seconds
        self._entries[token_hash] = (time.monotonic() + self.ttl_seconds, principal)

    def clear(self) -> None:
        self._entries.clear()


TOKEN_CACHE = TokenCache()
