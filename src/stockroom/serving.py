"""How `stockroom serve` runs uvicorn: its timeouts and limits, so no client can hold a socket.

uvicorn closes a keep-alive connection left idle after a response (`timeout_keep_alive`),
but nothing closes a connection that opened and sent nothing, or sent half a request (a
slowloris): it waits for the rest for ever. `ReadTimeoutHttpToolsProtocol` adds that bound:
from the moment a connection opens or a new request's first byte arrives, the whole request
(headers and body) must be in within `STOCKROOM_REQUEST_READ_TIMEOUT_SECONDS`, or the
connection is closed. The time the app takes to answer is not counted. It also caps the
size of a request's head (request line and headers): 400 beyond 16 KiB.

It is uvicorn's httptools protocol (the parser is native code: about 30 µs of CPU a request
where uvicorn's pure-Python h11 protocol took about 150, measured by `bench/protocols.py`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from stockroom.settings import Settings, get_settings

# The largest request line + headers accepted before answering 400 (h11, uvicorn's other
# parser, refuses beyond the same 16 KiB by default; here it is a decision, not an accident).
MAX_REQUEST_HEAD_BYTES = 16 * 1024
# A request line's method, spaces, version and CRLF (its target is counted as parsed).
_REQUEST_LINE_BYTES = len("OPTIONS  HTTP/1.1\r\n")


class ReadTimeoutHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose request does not arrive in
    time, and refusing request heads over MAX_REQUEST_HEAD_BYTES."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = get_settings().request_read_timeout_seconds
        self._read_timer: asyncio.TimerHandle | None = None
        self._in_head = True  # until a request's headers are complete
        self._received_in_head = 0  # bytes received while in a head
        self._head_bytes = 0  # the current head's size, as parsed

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_read_timer()  # the first request must arrive in time too

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._received_in_head += len(data)
        super().data_received(data)
        # A head trickled in without end: counted after parsing (a chunk that ends the head
        # and starts the body is fine), so at most one read past the limit is buffered.
        if self._in_head and self._received_in_head > MAX_REQUEST_HEAD_BYTES:
            if not self.transport.is_closing():
                self.send_400_response("Request head too large.")
            self._stop_read_timer()

    # The parser's callbacks measure the head exactly; raising in one makes uvicorn answer
    # 400 and close (the parser reports a callback error as an invalid request).
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = _REQUEST_LINE_BYTES
        self._start_read_timer()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_REQUEST_HEAD_BYTES:
            raise ValueError("request head too large")

    def on_headers_complete(self) -> None:
        self._in_head, self._received_in_head = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # the next request on this connection starts with its head
        self._stop_read_timer()  # all in: what follows is the app's time, then keep-alive's

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_read_timer()
        super().connection_lost(exc)

    def _start_read_timer(self) -> None:
        if self._read_timer is None and not self.transport.is_closing():
            self._read_timer = self.loop.call_later(self.read_timeout, self._read_timed_out)

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
        "http": f"{__name__}:{ReadTimeoutHttpToolsProtocol.__name__}",
        "timeout_keep_alive": settings.keep_alive_seconds,
        "timeout_graceful_shutdown": 30,
    }
