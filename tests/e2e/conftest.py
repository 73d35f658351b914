"""A live fleetcare server and a real Chromium for end-to-end tests.

`live_server` serves `create_app(settings, database)` with uvicorn in a background thread on a
free port of 127.0.0.1, so browser tests run on SQLite and PostgreSQL like the rest. Chromium is
the system's (/usr/bin/chromium); no browser is ever downloaded. Without it the tests skip with
one line, except under `CI=true`, where they fail.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from fleetcare import serving
from fleetcare.app import create_app
from fleetcare.core import auth
from fleetcare.core.auth import Role, system_principal
from fleetcare.core.db import Database
from fleetcare.core.settings import Settings
from tests.conftest import TEST_PASSWORD

CHROMIUM = Path(os.environ.get("FLEETCARE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        message = f"Chromium not found at {CHROMIUM}"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab. The test fails if a page's stylesheet, icon or other resource failed to
    load, or the browser reported an error such as something the Content Security Policy
    blocked. (A page itself may answer 4xx: a refused form is a 422 page.)"""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.status} for {response.url}")

    tab.on("console", on_console)
    tab.on("response", on_response)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    yield tab
    context.close()
    assert problems == [], f"the browser reported problems: {problems}"


class LiveServer:
    """uvicorn in a thread, with the HTTP protocol `fleetcare serve` uses unless `http` names
    another; `url` is where it listens once `start()` returns."""

    def __init__(self, app: Any, http: str = serving.PROTOCOL) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        host, port = self._socket.getsockname()
        self.url = f"http://{host}:{port}"
        # log_config=None: leave pytest's logging set-up alone.
        config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="on", http=http)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


@pytest.fixture
def live_server(settings: Settings, database: Database) -> Iterator[LiveServer]:
    server = LiveServer(create_app(settings, database))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_user(database: Database, email: str, role: Role) -> str:
    """Create a dashboard user with the test password; returns the email."""
    with database.session() as session:
        auth.create_user(
            session,
            email=email,
            role=role,
            password=TEST_PASSWORD,
            actor=system_principal("tests", via="cli"),
        )
        session.commit()
    return email


def log_in(page: Any, base: str, email: str) -> None:
    """Open the portfolio, get sent to the login form, log in, and land on the portfolio."""
    from playwright.sync_api import expect

    page.goto(f"{base}/portfolio")
    expect(page).to_have_url(re.compile(r"/login\?next=/portfolio$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/portfolio")
    expect(page.get_by_role("heading", name="Portfolio")).to_be_visible()
