"""Guards on a request body before any route sees it: its size, and text no database can hold.

Used by the request pipeline after authentication (an unauthenticated caller gets 401 and
learns nothing about its body). A body over `max_body_bytes` (declared or counted while
reading) is 413 `payload_too_large`; a JSON body carrying NUL or an unpaired UTF-16
surrogate in any string is 422, naming the fields.
"""

from __future__ import annotations

import json
import re

from starlette.types import Message, Receive

from stockroom.errors import PayloadTooLarge, ValidationFailed, field_error
from stockroom.fields import unstorable_reason

# JSON escapes of what no text column should hold: NUL (PostgreSQL cannot store it) and
# UTF-16 surrogates that are not a high+low pair (not encodable as UTF-8).
_NUL = re.compile(rb"\\u0000|\x00")
_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)


def too_large(max_body_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The body is over {max_body_bytes} bytes.")


def check_declared_size(content_length: bytes | None, max_body_bytes: int) -> None:
    """413 at once when `Content-Length` announces more than the limit."""
    declared = content_length is not None and content_length.isdigit()
    if declared and int(content_length or b"0") > max_body_bytes:
        raise too_large(max_body_bytes)


async def read_body(receive: Receive, max_body_bytes: int) -> bytes | None:
    """The whole body (413 past the limit), or None when the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body_bytes:
            raise too_large(max_body_bytes)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def check_text(body: bytes) -> None:
    """422 when a JSON body carries NUL or an unpaired surrogate, naming the fields."""
    if has_unstorable_text(body):
        raise ValidationFailed(
            "Text may not contain NUL characters or unpaired surrogates.",
            [
                field_error(path, "contains NUL or an unpaired surrogate")
                for path in unstorable_fields(body)
            ],
        )


def has_unstorable_text(body: bytes) -> bool:
    """Does a JSON body carry NUL or an unpaired surrogate (which no database text can hold)?"""
    if _NUL.search(body):
        return True
    if b"\\u" not in body:
        return False
    # A pair matches as one 12-character run; a lone surrogate matches as 6 characters.
    return any(len(m.group()) == 6 for m in _SURROGATE.finditer(body))


def _is_unstorable(text: str) -> bool:
    return unstorable_reason(text) is not None


def unstorable_fields(body: bytes) -> list[str]:
    """The field paths (`products[1].notes`) whose text `has_unstorable_text` objected to."""
    try:
        document = json.loads(body)
    except ValueError:
        return ["body"]
    found: list[str] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, str):
            if _is_unstorable(value):
                found.append(path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if _is_unstorable(str(key)):
                    found.append(child)
                walk(item, child)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk(document, "")
    return found or ["body"]


def replay_body(body: bytes, receive: Receive) -> Receive:
    """Hand the already-read body to the app, then pass on what the client does next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
