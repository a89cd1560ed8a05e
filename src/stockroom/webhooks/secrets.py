"""Endpoint secrets: made in the Standard Webhooks form, shown once, kept encrypted.

A secret is `whsec_` + base64 of 32 random bytes (what `standardwebhooks.Webhook` takes).
At rest it is encrypted with the service's secret key (`stockroom.secret_key`: Fernet under
STOCKROOM_SECRET_KEY or a key file made once). Secrets never go into logs or error messages.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.fernet import InvalidToken

from stockroom.secret_key import cipher
from stockroom.settings import Settings

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with this key (the key changed or was lost)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def encrypt_secret(settings: Settings, secret: str) -> str:
    return cipher(settings).encrypt(secret.encode()).decode()


def decrypt_secret(settings: Settings, stored: str) -> str:
    try:
        return cipher(settings).decrypt(stored.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("the endpoint's secret cannot be decrypted with this key") from None
