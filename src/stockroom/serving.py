"""How `stockroom serve` runs uvicorn: its timeouts and limits, so no client can hold a socket.

uvicorn closes a keep-alive connection left idle after a response (`timeout_keep_alive`),
but nothing closes a connection that opened and sent nothing, or sent half a request (a
slowloris): it waits for the rest for ever. `ReadTimeoutH11Protocol` adds that bound: from
the moment a connection opens or a new request's first byte arrives, the whole request
(headers and body) must be in within `STOCKROOM_REQUEST_READ_TIMEOUT_SECONDS`, or the
connection is closed. The time the app takes to answer is not counted. h11 also caps the
size of a request's head (`h11_max_incomplete_event_size`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from stockroom.settings import Settings, get_settings

# The largest request line + headers h11 buffers before answering 400 (uvicorn's default is
# the same 16 KiB; set here so it is a decision, not an accident).
MAX_REQUEST_HEAD_BYTES = 16 * 1024


class ReadTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request does not arrive in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = get_settings().request_read_timeout_seconds
        self._read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_request()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_read_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_request()

    def _watch_request(self) -> None:
        """Time a request from its first byte until it is all in; idle is keep-alive's job."""
        receiving = self.conn.their_state is h11.SEND_BODY or (
            self.conn.their_state is h11.IDLE
            and (self.cycle is None or bool(self.conn.trailing_data[0]))
        )
        if receiving and not self.transport.is_closing():
            if self._read_timer is None:
                self._read_timer = self.loop.call_later(self.read_timeout, self._read_timed_out)
        else:
            self._stop_read_timer()

    def _stop_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments `stockroom serve` gives `uvicorn.run` for its timeouts."""
    return {
        "http": f"{__name__}:{ReadTimeoutH11Protocol.__name__}",
        "timeout_keep_alive": settings.keep_alive_seconds,
        "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
        "timeout_graceful_shutdown": 30,
    }
