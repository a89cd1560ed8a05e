"""The service's secret key: what Stockroom keeps encrypted at rest is encrypted with it.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under the key of
STOCKROOM_SECRET_KEY, or, when that is unset, of a key file made once (mode 0600): beside
the SQLite database (`stockroom.db` → `stockroom.db.key`), or `.stockroom/secret.key` in the
working directory for PostgreSQL. It encrypts webhook endpoints' signing secrets and the
stored idempotent answers that carry one.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from stockroom.settings import Settings


def key_file(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(f"{url.database}.key")
    return Path(".stockroom") / "secret.key"


def _read_or_create_key(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        # O_EXCL: of two processes starting at once, one writes and both read the same key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    return key


@lru_cache(maxsize=8)
def _fernet(secret_key: str, path: str) -> Fernet:
    key = secret_key.encode() if secret_key else _read_or_create_key(Path(path))
    return Fernet(key)


def cipher(settings: Settings) -> Fernet:
    """The Fernet of the service's secret key (made on first use when there is none yet)."""
    return _fernet(settings.secret_key, "" if settings.secret_key else str(key_file(settings)))
