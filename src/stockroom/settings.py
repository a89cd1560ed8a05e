"""Configuration: one Settings object read from STOCKROOM_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service reads from its environment, with working defaults."""

    model_config = SettingsConfigDict(env_prefix="STOCKROOM_", extra="ignore")

    # A plain SQLite file in the working directory; a postgresql:// URL runs on PostgreSQL.
    database_url: str = "sqlite:///stockroom.db"
    # A read replica (postgresql://...) for lists, reports and CSV exports; unset: the primary.
    read_database_url: str | None = None
    # Beyond this replay lag (seconds) the replica's reads go to the primary until it
    # catches up; 0: whenever it has not replayed everything yet (docs/scaling.md).
    read_max_lag_seconds: float = Field(default=30.0, ge=0)
    # "pgbouncer": the URLs point at a transaction-mode pooler (PgBouncer); no startup
    # parameters beyond the basics and no named prepared statements kept across transactions.
    # "none": straight to PostgreSQL (or a session-mode pooler).
    database_pooler: Literal["none", "pgbouncer"] = "none"
    # The application_name this service's connections carry in pg_stat_activity (one per
    # deployment lets an operator tell instances apart and count their connections).
    database_application_name: str = "stockroom"
    # Per worker process (and again for the replica's pool when one is set): see the
    # connection budget in docs/running.md. 2 instances x 4 workers x 10 + headroom < 100.
    # All kept open, none as overflow: SQLAlchemy closes an overflow connection returned to a
    # full pool, which under a steady load of waiting requests meant opening and closing
    # connections all the time (docs/performance.md, "The pool keeps its connections").
    pool_size: int = 10
    pool_max_overflow: int = 0
    # Seconds a request waits for a free pooled connection before it is answered
    # 503 `unavailable` with Retry-After (never an unbounded wait).
    pool_timeout_seconds: float = 5.0
    # Seconds a writer waits for a lock before the request becomes a 503 `unavailable`.
    lock_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 30.0
    sqlite_busy_timeout_ms: int = 30_000
    # Largest request body accepted (413 `payload_too_large` above it).
    max_body_bytes: int = 1_048_576
    log_sql: bool = False
    # Log lines: JSON objects, text for people, or auto (text when stderr is a terminal).
    log_format: Literal["auto", "json", "text"] = "auto"
    # Per-token request limits, e.g. "50/second;1000/minute" (ratelimit.py); empty: none.
    rate_limit: str = ""
    # Shared by every worker when set (e.g. redis://127.0.0.1:6379/0); per process otherwise.
    redis_url: str = ""
    # `stockroom serve`: an idle keep-alive connection is closed after this many seconds; a
    # request must arrive whole (head and body) within the read timeout (see serving.py).
    keep_alive_seconds: float = 5.0
    request_read_timeout_seconds: float = 30.0
    # Seconds a worker may keep using a token → user lookup (see auth/token_cache.py).
    auth_cache_seconds: float = 5.0
    # Run the background worker (reservation expiry) inside this server process;
    # `stockroom serve` turns it on unless `--no-worker`.
    worker_in_process: bool = False
    worker_interval_seconds: float = 1.0
    # Webhooks (docs/webhooks.md). The key that encrypts endpoint secrets at rest: a Fernet key
    # (`stockroom webhooks key` prints a new one). Unset: a key file made once beside the
    # SQLite database, or in .stockroom/ for PostgreSQL (several machines: set this instead).
    secret_key: str = ""
    # URLs resolving to loopback, private, link-local... addresses are refused unless true.
    webhook_allow_private: bool = False
    # Send only to loopback addresses, whatever the URL: the test suite sets it, so that no
    # test can reach anything outside the machine.
    webhook_loopback_only: bool = False
    # Multiplies every retry delay (1: retries for ~27 h). Below 1 only for tests and drills.
    webhook_retry_scale: float = 1.0
    # How long a worker owns an endpoint without renewing (another takes over after a crash).
    webhook_lease_seconds: float = 60.0
    # Endpoints one worker sends to at once (each endpoint in order, one request at a time).
    webhook_concurrency: int = 8
    # How far in the past a write may set `occurred_at` (days); capped at 31 so that
    # occurred_at ≥ created_at − 31 days holds for every movement ever written.
    backdate_days: int = Field(7, ge=0, le=31)


@lru_cache
def get_settings() -> Settings:
    return Settings()
