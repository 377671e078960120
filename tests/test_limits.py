"""Limits against clients that hold connections: slow or missing heads and bodies, many idle
connections, forged forwarded addresses. Each over real HTTP against ``dateline serve``."""

from __future__ import annotations

import http.client
import json
import resource
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from qa.settings import Settings

from .conftest import LiveServer, start_server, stop_server

HEADER_TIMEOUT = 3.0
BODY_TIMEOUT = 1.0
QUESTION = {"question": "What did Putin say about training?"}
BODILESS = (
    b"POST /api/chat HTTP/1.1\r\nHost: dateline\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n"
)
# Opened beside each other by the tests; the server must take more than a soft limit of 1,024.
IDLE_PAST_THE_SOFT_LIMIT = 1100


@contextmanager
def _soft_open_files_limit(limit: int) -> Iterator[None]:
    """A soft limit on open files for this process and what it starts meanwhile."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def many_sockets() -> Iterator[None]:
    """The tests' own end of a thousand connections needs as many file descriptors."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2 * IDLE_PAST_THE_SOFT_LIMIT:
        pytest.skip(f"the hard limit on open files ({hard}) is too low for this test")
    with _soft_open_files_limit(hard):
        yield


@pytest.fixture(scope="module")
def deadlines_server(
    seeded_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Short deadlines, two API slots, and started under a soft limit of 1,024 open files."""
    log = tmp_path_factory.mktemp("deadlines") / "server.log"
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with _soft_open_files_limit(min(1024, hard)):
        server = start_server(
            seeded_settings.data_dir,
            log,
            DATELINE_RATE_LIMIT_PER_MINUTE="0",
            DATELINE_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
            DATELINE_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
            DATELINE_MAX_IN_FLIGHT="2",
        )
    yield server
    stop_server(server)
    assert "Traceback" not in log.read_text()


@pytest.fixture(scope="module")
def proxied_server(
    seeded_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Three questions a minute per client; 127.0.0.2 is a proxy, 127.0.0.1 is not."""
    log = tmp_path_factory.mktemp("proxied") / "server.log"
    server = start_server(
        seeded_settings.data_dir,
        log,
        DATELINE_RATE_LIMIT_PER_MINUTE="3",
        DATELINE_FORWARDED_ALLOW_IPS='["127.0.0.2"]',
    )
    yield server
    stop_server(server)


def _address(server: LiveServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def _connect(server: LiveServer, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(_address(server), timeout=30, source_address=(source, 0))


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    headers = {name.lower(): value for name, value in response.getheaders()}
    return response.status, headers, response.read()


def _closed(sock: socket.socket) -> bool:
    """Whether the server has closed its end, without waiting."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


def test_a_body_that_does_not_arrive_is_408_with_its_reason(deadlines_server: LiveServer) -> None:
    with _connect(deadlines_server) as sock:
        started = time.monotonic()
        sock.sendall(BODILESS + b'{"question": ')
        status, headers, body = _answer(sock)
        waited = time.monotonic() - started
        assert (status, json.loads(body)) == (
            408,
            {"detail": f"the request body did not arrive within {BODY_TIMEOUT:g} s"},
        )
        assert headers["connection"] == "close"
        assert BODY_TIMEOUT <= waited < BODY_TIMEOUT + 2
        assert sock.recv(1) == b""


def test_requests_without_their_body_hold_no_slot(deadlines_server: LiveServer) -> None:
    """Three times the server's two slots in bodiless requests, and a question still answered."""
    with ExitStack() as stack:
        waiting = [stack.enter_context(_connect(deadlines_server)) for _ in range(6)]
        for sock in waiting:
            sock.sendall(BODILESS)
        time.sleep(0.2)  # their heads are in before the question's
        response = httpx.post(f"{deadlines_server.url}/api/chat", json=QUESTION, timeout=30)
        assert response.status_code == 200, response.text
        assert [_answer(sock)[0] for sock in waiting] == [408] * 6


def test_connections_slow_to_send_a_request_head_are_closed(deadlines_server: LiveServer) -> None:
    """Silent from the start, a head trickled a byte at a time, or silent midway through a second
    head after an answer: each is closed once the header deadline has passed."""
    started = time.monotonic()  # no deadline can begin earlier
    with ExitStack() as stack:
        silent, trickling, second = (stack.enter_context(_connect(deadlines_server)) for _ in "abc")
        second.sendall(b"GET /healthz HTTP/1.1\r\nHost: dateline\r\n\r\n")
        assert _answer(second)[0] == 200
        second.sendall(b"GET /heal")
        trickle = iter(b"GET /healthz HTTP/1.1\r\nHost: dateline\r\nX-Padding: " + b"a" * 100)
        closed: dict[str, float] = {}
        while len(closed) < 3 and time.monotonic() < started + HEADER_TIMEOUT + 5:
            if "trickling" not in closed:
                with suppress(OSError):  # closed since it was last looked at
                    trickling.sendall(bytes([next(trickle)]))
            for name, sock in (("silent", silent), ("trickling", trickling), ("second", second)):
                if name not in closed and _closed(sock):
                    closed[name] = time.monotonic() - started
            time.sleep(0.1)
    assert set(closed) == {"silent", "trickling", "second"}
    assert all(HEADER_TIMEOUT - 0.1 < seconds < HEADER_TIMEOUT + 3 for seconds in closed.values())


def test_idle_connections_past_the_inherited_soft_limit(
    deadlines_server: LiveServer, many_sockets: None
) -> None:
    """Started under ``ulimit -Sn 1024``, the server raised its limit to the hard one: 1,100 idle
    connections leave /healthz reachable before the header deadline closes any of them."""
    limits = Path(f"/proc/{deadlines_server.process.pid}/limits").read_text()
    open_files = next(line for line in limits.splitlines() if line.startswith("Max open files"))
    soft, hard = open_files.split()[3:5]
    assert soft == hard
    with ExitStack() as stack:
        started = time.monotonic()
        for _ in range(IDLE_PAST_THE_SOFT_LIMIT):
            stack.enter_context(_connect(deadlines_server))
        response = httpx.get(f"{deadlines_server.url}/healthz", timeout=HEADER_TIMEOUT)
        assert response.status_code == 200
        assert time.monotonic() - started < HEADER_TIMEOUT


def test_a_question_is_answered_beside_bodiless_and_idle_connections(
    live_server: LiveServer, many_sockets: None
) -> None:
    """200 requests that never send their body and 500 connections that never send anything, on
    a server with 64 API slots: a question is still answered, within a second."""
    with ExitStack() as stack:
        for _ in range(200):
            stack.enter_context(_connect(live_server)).sendall(BODILESS)
        for _ in range(500):
            stack.enter_context(_connect(live_server))
        time.sleep(0.5)  # every head is in
        started = time.monotonic()
        response = httpx.post(f"{live_server.url}/api/chat", json=QUESTION, timeout=30)
        assert response.status_code == 200, response.text
        assert time.monotonic() - started < 1.0
        assert httpx.get(f"{live_server.url}/healthz", timeout=5).status_code == 200


def _search(server: LiveServer, forwarded_for: str, source: str = "127.0.0.1") -> int:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        response = client.get(
            f"{server.url}/api/search",
            params={"q": "SCO"},
            headers={"X-Forwarded-For": forwarded_for},
        )
    return response.status_code


def test_forwarded_for_from_a_peer_not_listed_is_ignored(proxied_server: LiveServer) -> None:
    """A new X-Forwarded-For on every request from loopback no longer resets the rate limit."""
    statuses = [_search(proxied_server, f"198.51.100.{n}") for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_listed_proxy_is_believed_and_the_limit_counts_before_the_body(
    proxied_server: LiveServer,
) -> None:
    """Clients behind the proxy are limited one by one; one over its limit is refused at once,
    before its body (which never comes) and without waiting for the body deadline."""
    proxy = "127.0.0.2"
    assert [_search(proxied_server, "203.0.113.1", proxy) for _ in range(3)] == [200] * 3
    with _connect(proxied_server, proxy) as sock:
        started = time.monotonic()
        sock.sendall(BODILESS.replace(b"\r\n\r\n", b"\r\nX-Forwarded-For: 203.0.113.1\r\n\r\n"))
        status, headers, body = _answer(sock)
        assert time.monotonic() - started < 1.0
    assert status == 429 and 1 <= int(headers["retry-after"]) <= 60
    assert headers["connection"] == "close"
    assert json.loads(body)["detail"].startswith("too many requests: at most 3 a minute")
    assert _search(proxied_server, "203.0.113.2", proxy) == 200
