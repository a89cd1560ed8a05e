"""A real `stockroom serve` closes connections that send nothing, or half a request.

Without a read timeout uvicorn waits for the rest of a request for ever: a client can
hold sockets (and a worker's attention) by opening connections and trickling bytes. The
server here has a 1-second read timeout; each raw socket below must be closed by the
server (recv answers b"") well before the socket's own 30-second timeout. The time is a
bound, not a measurement: a slow machine passes as long as the server closes at all.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.server import Server, running_server

WAIT = 30.0  # how long the test waits for the server to hang up


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    env = {"STOCKROOM_REQUEST_READ_TIMEOUT_SECONDS": "1", "STOCKROOM_KEEP_ALIVE_SECONDS": "1"}
    with running_server(database_url, workers=1, env=env) as running:
        yield running


def closed_by_server(server: Server, sent: bytes) -> tuple[bool, bytes]:
    """Send `sent`, then wait: did the server close the connection (and what did it say)?"""
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        if sent:
            sock.sendall(sent)
        received = b""
        try:
            while chunk := sock.recv(4096):
                received += chunk
        except TimeoutError:
            return False, received
        except ConnectionResetError:
            return True, received
        return True, received


@pytest.mark.slow
def test_a_half_sent_request_head_is_closed(server: Server) -> None:
    closed, answer = closed_by_server(server, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert closed
    assert answer == b""  # nothing was answered: the request never arrived


@pytest.mark.slow
def test_a_half_sent_body_is_closed(server: Server) -> None:
    head = (
        b"POST /inventory/adjustments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    closed, _ = closed_by_server(server, head + b'{"quantity": ')
    assert closed


@pytest.mark.slow
def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    closed, answer = closed_by_server(server, b"")
    assert closed
    assert answer == b""


@pytest.mark.slow
def test_a_whole_request_is_still_answered_and_an_idle_keep_alive_closed(server: Server) -> None:
    closed, answer = closed_by_server(server, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert closed  # keep-alive: closed once idle


def answer_to(server: Server, sent: bytes) -> bytes:
    """Send a whole request and read the server's answer until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall(sent)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and b"connection: close" in received.lower():
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        return received


@pytest.mark.slow
def test_a_request_head_over_16_kib_is_refused(server: Server) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 17_000
    closed, answer = closed_by_server(server, head + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert closed


@pytest.mark.slow
def test_a_body_far_over_16_kib_is_not_taken_for_a_head(server: Server) -> None:
    body = b'{"notes": "' + b"n" * 200_000 + b'"}'
    head = (
        b"POST /inventory/adjustments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    answer = answer_to(server, head + body)
    # Read whole and refused for what it is (no token), not as a head too large.
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
