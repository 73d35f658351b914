"""`fleetcare.serving.DeviceHttpProtocol`: uvicorn's httptools protocol that hands steady-state
check-ins to the device hot path below ASGI. Over real sockets against real uvicorn servers
(SQLite and PostgreSQL): its answers are the bytes the app gives under plain httptools, what
is not the steady state still reaches the app, and keep-alive, `Connection: close`,
pipelining and a device that hangs up behave as under uvicorn's own protocol."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fleetcare import serving
from fleetcare.app import create_app
from fleetcare.core.db import Database
from fleetcare.core.settings import Settings
from fleetcare.updates.agent import DeviceClient, DeviceIdentity
from fleetcare.updates.device_api import DEVICE_PREFIX
from tests.e2e.conftest import LiveServer
from tests.updates.conftest import SECRET, register

CHECKIN = f"{DEVICE_PREFIX}/checkin?installed=1.0.0"


class Servers:
    """Two servers over one database: `ours` with `DeviceHttpProtocol`, `plain` with uvicorn's
    httptools protocol (the app and its hot path answer there, through ASGI)."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.ours_app = create_app(settings, database)
        self.plain_app = create_app(settings, database)
        self.ours = LiveServer(self.ours_app)
        self.plain = LiveServer(self.plain_app, http="httptools")
        self.asgi_calls = 0
        handle = self.ours_app.hot_path.handle  # type: ignore[attr-defined]

        async def counted(scope: Any, send: Any) -> bool:
            if scope["type"] == "http":
                self.asgi_calls += 1
            return await handle(scope, send)

        self.ours_app.hot_path.handle = counted  # type: ignore[attr-defined]

    def answered(self) -> float:
        return float(self.ours_app.hot_path.answered._value.get())  # type: ignore[attr-defined]


@pytest.fixture
def servers(settings: Settings, database: Database, fleet: Any) -> Iterator[Servers]:
    both = Servers(settings, database)
    both.ours.start()
    both.plain.start()
    try:
        yield both
    finally:
        both.ours.stop()
        both.plain.stop()


def _device(servers: Servers, tmp_path: Path, uid: str = "dev-1") -> DeviceClient:
    """A device enrolled through `ours`, which has reported 1.0.0 (the full route records it)
    and checked in once more (the hot path, through ASGI, reads its key then)."""
    register_database = servers.ours_app.state.db
    register(register_database, [uid])
    identity = DeviceIdentity.load_or_create(tmp_path / uid, uid)
    device = DeviceClient(httpx.Client(base_url=servers.ours.url), identity, sessions=False)
    assert device.enrol(SECRET).status_code == 200
    assert device.checkin(installed="1.0.0").status_code == 200
    assert device.checkin(installed="1.0.0").status_code == 200
    return device


def _request(device: DeviceClient, *, extra: str = "", target: str = CHECKIN) -> bytes:
    headers = device.signed_headers("GET", target, b"")
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _read_response(sock: socket.socket, buffer: bytearray) -> bytes:
    """One HTTP/1.1 response (with Content-Length) from `sock`; what follows stays in `buffer`."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-response: {bytes(buffer)!r}"
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    end = len(head) + 4 + length
    while len(buffer) < end:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        buffer += chunk
    response = bytes(buffer[:end])
    del buffer[:end]
    return response


def _exchange(url: str, payload: bytes, count: int = 1) -> list[bytes]:
    with socket.create_connection(_address(url), timeout=10) as sock:
        sock.sendall(payload)
        buffer = bytearray()
        return [_read_response(sock, buffer) for _ in range(count)]


def _normal(response: bytes) -> bytes:
    """The response without what differs from one answer to the next (date, request id)."""
    response = re.sub(rb"(?m)^date: [^\r]*", b"date: -", response)
    return re.sub(rb"(?m)^x-request-id: [0-9a-f]{16}", b"x-request-id: -", response)


def test_steady_checkins_are_answered_below_asgi_with_the_apps_bytes(servers, tmp_path):
    device = _device(servers, tmp_path)
    calls, answered = servers.asgi_calls, servers.answered()

    ours = _exchange(servers.ours.url, _request(device))[0]
    assert servers.asgi_calls == calls, "the check-in went through ASGI"
    assert servers.answered() == answered + 1
    plain = _exchange(servers.plain.url, _request(device))[0]
    assert ours.startswith(b"HTTP/1.1 200 OK\r\n")
    assert _normal(ours) == _normal(plain)

    etag = re.search(rb"etag: (\S+)", ours).group(1).decode()  # type: ignore[union-attr]
    ours = _exchange(servers.ours.url, _request(device, extra=f"If-None-Match: {etag}\r\n"))[0]
    plain = _exchange(servers.plain.url, _request(device, extra=f"If-None-Match: {etag}\r\n"))[0]
    assert ours.startswith(b"HTTP/1.1 304 Not Modified\r\n")
    assert _normal(ours) == _normal(plain)
    assert servers.asgi_calls == calls


def test_what_is_not_the_steady_state_reaches_the_app(servers, tmp_path):
    device = _device(servers, tmp_path)
    request = _request(device)
    first = _exchange(servers.ours.url, request)[0]
    assert first.startswith(b"HTTP/1.1 200 OK")
    calls = servers.asgi_calls

    # A replay: the hot path's UPDATE refuses it, the full route answers as under httptools.
    replayed = _exchange(servers.ours.url, request)[0]
    assert servers.asgi_calls == calls + 1
    assert _normal(replayed) == _normal(_exchange(servers.plain.url, request)[0])
    assert not replayed.startswith(b"HTTP/1.1 200")

    # A forged signature is refused by the full route, with its own words.
    forged = re.sub(
        rb"X-Fleetcare-Signature: [0-9a-f]{8}", b"X-Fleetcare-Signature: 00000000", _request(device)
    )
    refused = _exchange(servers.ours.url, forged)[0]
    assert servers.asgi_calls == calls + 2
    assert refused.startswith(b"HTTP/1.1 401")

    # A new state reported: recorded by the full route; the hot path, which forgets a key
    # whenever its UPDATE finds no steady row, reads the key again through ASGI, and from
    # then on the check-ins are taken below it.
    target = f"{DEVICE_PREFIX}/checkin?installed=1.0.0&state=idle"
    for expected_calls in (calls + 3, calls + 4, calls + 4, calls + 4):
        answer = _exchange(servers.ours.url, _request(device, target=target))[0]
        assert answer.startswith(b"HTTP/1.1 200 OK")
        assert servers.asgi_calls == expected_calls


def test_a_device_unknown_to_the_process_is_read_through_the_app_first(
    settings, database, fleet, tmp_path
):
    first = Servers(settings, database)
    first.ours.start()
    try:
        device = _device(first, tmp_path)
    finally:
        first.ours.stop()
    # A restarted server knows no keys: the first check-in goes to the app, which reads the
    # key in the hot path's batched look-up; the next is taken below ASGI.
    again = Servers(settings, database)
    again.ours.start()
    try:
        assert _exchange(again.ours.url, _request(device))[0].startswith(b"HTTP/1.1 200 OK")
        assert again.asgi_calls == 1
        assert _exchange(again.ours.url, _request(device))[0].startswith(b"HTTP/1.1 200 OK")
        assert again.asgi_calls == 1
    finally:
        again.ours.stop()


def test_keep_alive_pipelining_and_connection_close(servers, tmp_path):
    device = _device(servers, tmp_path)
    calls = servers.asgi_calls
    # Three requests in one write on one connection: three answers, in order; the middle
    # one (a replay of the first) from the app, and the last too (the key is read again).
    first = _request(device)
    second = _request(device)
    with socket.create_connection(_address(servers.ours.url), timeout=10) as sock:
        sock.sendall(first + first + second)
        buffer = bytearray()
        answers = [_read_response(sock, buffer) for _ in range(3)]
    assert [a.split(b"\r\n")[0] for a in answers][0::2] == [b"HTTP/1.1 200 OK"] * 2
    assert not answers[1].startswith(b"HTTP/1.1 200")
    assert servers.asgi_calls == calls + 2

    # Connection: close is honoured as uvicorn honours it.
    with socket.create_connection(_address(servers.ours.url), timeout=10) as sock:
        sock.sendall(_request(device, extra="Connection: close\r\n"))
        buffer = bytearray()
        answer = _read_response(sock, buffer)
        assert b"\r\nconnection: close\r\n" in answer
        assert sock.recv(1) == b""  # the server closed the connection
    assert servers.asgi_calls == calls + 2


def test_a_device_that_hangs_up_before_its_answer(servers, tmp_path):
    device = _device(servers, tmp_path)
    request = _request(device)
    with socket.create_connection(_address(servers.ours.url), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_RDWR)
    # The check-in counts all the same (its sequence number is used: the replay is refused)
    # once the server has recorded it, and the server goes on answering.
    for _ in range(50):
        answer = _exchange(servers.ours.url, request)[0]
        if not answer.startswith(b"HTTP/1.1 200"):
            break
    assert not answer.startswith(b"HTTP/1.1 200")
    assert _exchange(servers.ours.url, _request(device))[0].startswith(b"HTTP/1.1 200 OK")


def test_another_app_is_served_as_by_httptools(settings, database):
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"bare"})

    assert serving.find_hot_path(bare) is None
    server = LiveServer(bare)
    server.start()
    try:
        response = httpx.get(f"{server.url}{CHECKIN}")
        assert (response.status_code, response.text) == (200, "bare")
    finally:
        server.stop()


def test_with_the_hot_path_off_everything_goes_to_the_app(settings, database, fleet, tmp_path):
    off = Servers(settings.model_copy(update={"device_hot_path": False}), database)
    off.ours.start()
    try:
        device = _device(off, tmp_path)
        calls = off.asgi_calls
        assert _exchange(off.ours.url, _request(device))[0].startswith(b"HTTP/1.1 200 OK")
        assert off.asgi_calls == calls + 1
        assert off.answered() == 0
    finally:
        off.ours.stop()
