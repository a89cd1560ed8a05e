"""CPU per request of uvicorn's HTTP protocols, without sockets or a database.

    .venv/bin/python -m bench.protocols [requests]

Feeds the same adjustment request (head and a JSON body) into each protocol object over a
fake transport, N times on one connection, answering from a no-op ASGI app, and prints the
CPU time (`time.process_time`) per request: the cost of parsing a request and writing a
response, which every request served pays. Compares uvicorn's h11 protocol, its httptools
protocol and `stockroom serve`'s `ReadTimeoutHttpToolsProtocol` (httptools with the read
timeout and the head limit).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import uvloop
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from stockroom.serving import ReadTimeoutHttpToolsProtocol

BODY = (
    b'{"product_id":"00000000-0000-4000-8000-000000000e70","quantity":1,"reason_code":"correction"}'
)
REQUEST = (
    b"POST /inventory/adjustments HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
    b"Authorization: Bearer sr_JejOA7IlD1cZGWcTBtkqaNQY3PL2HssxE0akC-yahGI.6faae9ae"
    b"e0964d7e8f3383d007f6af0a\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY)
) + BODY
ANSWER = b"x" * 300


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"300")]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": ANSWER})


class Transport(asyncio.Transport):
    """Takes what the protocol writes and forgets it."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def write(self, data: Any) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def cpu_per_request(protocol_class: type[Any], requests: int) -> float:
    config = Config(app=app, log_level="warning", access_log=False)
    config.load()
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    protocol.connection_made(Transport())
    for round_ in (200, requests):  # a warm-up, then the measured run
        started = time.process_time()
        for _ in range(round_):
            protocol.data_received(REQUEST)
            for _ in range(3):  # the app's task runs and answers
                await asyncio.sleep(0)
    return (time.process_time() - started) / requests


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    uvloop.install()
    for protocol_class in (H11Protocol, HttpToolsProtocol, ReadTimeoutHttpToolsProtocol):
        seconds = asyncio.run(cpu_per_request(protocol_class, requests))
        print(f"{protocol_class.__name__:32} {seconds * 1e6:6.1f} µs of CPU per request")


if __name__ == "__main__":
    main()
