"""Clients that send a request slowly lose their connection after a bounded time."""

from __future__ import annotations

import itertools
import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2 as httpx
import pytest

from tests.e2e.gateway_server import GatewayProcess, serve_gateway
from tests.e2e.server_process import ServerProcess

# Injected short, so the test waits for seconds rather than the defaults' tens.
HEADER_SECONDS = 1
BODY_SECONDS = 1
# Time for 110 sockets to be served on two busy cores, on top of the limit.
SLACK_SECONDS = 4


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    # Reading HTTP involves no storage: one backend is enough.
    crm = ServerProcess(f"sqlite:///{tmp_path_factory.mktemp('crm')}/crm.sqlite3")
    try:
        with serve_gateway(
            f"127.0.0.1:{crm.port}",
            CRM_GATEWAY_API_KEYS="k=agent@agent:slow-test",
            CRM_GATEWAY_HEADER_TIMEOUT_SECONDS=str(HEADER_SECONDS),
            CRM_GATEWAY_BODY_TIMEOUT_SECONDS=str(BODY_SECONDS),
        ) as process:
            yield process
    finally:
        crm.terminate()


@dataclass
class Trickle:
    """One connection sending its payload a byte at a time, and what came back."""

    connection: socket.socket
    answer: bytes = b""
    open_for: float | None = None  # Seconds until the server closed it.


def trickle(trickles: list[Trickle], payload: bytes, give_up: float) -> None:
    """Sends a byte of payload on every connection each 0.2 s until the server closes
    each one, or give_up seconds pass."""
    started = time.monotonic()
    for sent in itertools.count():
        waiting = [t for t in trickles if t.open_for is None]
        if not waiting or time.monotonic() - started > give_up:
            return
        readable, _, _ = select.select([t.connection for t in waiting], [], [], 0.2)
        for each in waiting:
            ended = each.connection in readable and not _read(each)
            if not ended and sent < len(payload):
                try:
                    each.connection.send(payload[sent : sent + 1])
                except OSError:
                    ended = True
            if ended:
                each.open_for = time.monotonic() - started


def _read(each: Trickle) -> bool:
    """Keeps what the server sent; False once it has closed the connection."""
    try:
        data = each.connection.recv(65536)
    except OSError:
        return False
    each.answer += data
    return data != b""


@contextmanager
def connections(gateway: GatewayProcess, count: int) -> Iterator[list[Trickle]]:
    opened = [
        socket.create_connection(("127.0.0.1", gateway.port), timeout=5) for _ in range(count)
    ]
    try:
        yield [Trickle(connection) for connection in opened]
    finally:
        for connection in opened:
            connection.close()


def test_110_connections_trickling_headers_are_closed_within_the_header_timeout(
    gateway: GatewayProcess,
) -> None:
    header = b"GET /v1/mergeSuggestions HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    with connections(gateway, 110) as trickles, httpx.Client(base_url=gateway.url) as client:
        trickle(trickles, header, give_up=HEADER_SECONDS + SLACK_SECONDS + 5)
        served = client.get("/v1/mergeSuggestions", headers={"Authorization": "ApiKey k"})

    open_for = [t.open_for for t in trickles]
    assert None not in open_for, "the server kept some connections"
    assert max(t for t in open_for if t is not None) < HEADER_SECONDS + SLACK_SECONDS
    assert served.status_code == 200


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (b"ApiKey k", b"HTTP/1.1 408 "),  # the gateway was reading the body
        (b"ApiKey wrong", b"HTTP/1.1 401 "),  # answered first; the rest is never read
    ],
)
def test_a_trickled_body_is_answered_and_its_connection_closed(
    gateway: GatewayProcess, authorization: bytes, status: bytes
) -> None:
    head = (
        b"POST /v1/interactions:record HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: " + authorization + b"\r\nContent-Length: 1000\r\n\r\n"
    )
    with connections(gateway, 1) as trickles:
        trickles[0].connection.sendall(head)
        trickle(trickles, b" " * 1000, give_up=HEADER_SECONDS + BODY_SECONDS + SLACK_SECONDS + 5)

    (slow,) = trickles
    assert slow.answer.startswith(status), slow.answer
    assert slow.open_for is not None, "the server kept the connection"
    assert slow.open_for < max(HEADER_SECONDS, BODY_SECONDS) + SLACK_SECONDS


def test_a_connection_that_sends_nothing_is_closed_within_the_header_timeout(
    gateway: GatewayProcess,
) -> None:
    with connections(gateway, 1) as trickles:
        trickle(trickles, b"", give_up=HEADER_SECONDS + SLACK_SECONDS + 5)

    assert trickles[0].open_for is not None
    assert trickles[0].open_for < HEADER_SECONDS + SLACK_SECONDS
