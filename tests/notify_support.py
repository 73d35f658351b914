"""Real receivers for notification tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver
that checks fleetcare's signature the way an integrator would, both on 127.0.0.1.

`use_jobs(settings, database)` points the job queue at an in-memory huey that runs tasks at once,
and tasks and sending at the test's database and settings; `restore()` undoes it.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from fleetcare.core import notify
from fleetcare.core.db import Database
from fleetcare.core.jobs import huey, set_task_database
from fleetcare.core.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Sink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a free port; `messages` are the emails it received, parsed."""

    def __init__(self) -> None:
        self.port = free_port()
        self._sink = _Sink()
        self._controller = Controller(self._sink, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self._sink.messages

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        return self._sink.envelopes

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        self._sink.messages.clear()
        self._sink.envelopes.clear()

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTP server that records each call, checks its signature with `secret`, and answers
    with the next status from `statuses` (200 once they run out)."""

    secret: str = ""
    statuses: list[int] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok = bool(receiver.secret) and notify.verify_signature(
                    receiver.secret,
                    headers.get("x-fleetcare-timestamp", ""),
                    body,
                    headers.get("x-fleetcare-signature", ""),
                )
                receiver.calls.append(Call(self.path, headers, body, ok))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == 200 and not ok:
                    status = 401  # a careful receiver refuses what it cannot verify
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/fleetcare"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def jobs(settings: Settings, database: Database) -> Iterator[None]:
    """Tasks run at once (in-memory huey) against this database with these settings."""
    previous = huey._huey
    huey.configure(settings.model_copy(update={"jobs_backend": "memory"}))
    set_task_database(database)
    notify.configure(settings)
    try:
        yield
    finally:
        notify.configure(None)
        set_task_database(None)
        huey._huey = previous


def running_smtp() -> Iterator[SmtpServer]:
    """The body of an `smtp` fixture: `yield from running_smtp()` gives a started server and
    stops it when the fixture's scope ends."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
