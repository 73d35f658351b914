"""Fixtures for disclosure tests: a real SMTP server, jobs that run at once, helpers to report.

Every test here runs on SQLite and PostgreSQL (through `database`). Email goes to aiosmtpd on
127.0.0.1; `mail` is emptied before each test.
"""

from __future__ import annotations

from typing import Any

import pytest

from fleetcare.core.auth import Role
from tests.notify_support import jobs, running_smtp

REPORTER = "finder@research.example"


@pytest.fixture(scope="session")
def smtp():
    yield from running_smtp()


@pytest.fixture
def mail(smtp):
    smtp.clear()
    return smtp


@pytest.fixture
def settings(settings, smtp):
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "smtp_from": "psirt@fleetcare.test",
            "security_email": "security@fleetcare.test",
            "base_url": "https://psirt.example.com",
            "report_rate_limit": 1000,
        }
    )


@pytest.fixture
def wired(settings, database):
    with jobs(settings, database):
        yield


@pytest.fixture
def client(client, wired):
    return client


@pytest.fixture
def psirt(tokens) -> dict[str, str]:
    return tokens.headers(Role.SECURITY)


def report_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "Unauthenticated firmware upload",
        "product": "Gateway X1",
        "affected_version": "1.0.0",
        "description": "POST /cgi-bin/upload accepts firmware without a session.",
        "steps_to_reproduce": "curl -F fw=@evil.bin http://gw/cgi-bin/upload",
        "impact": "Anyone on the LAN can replace the firmware.",
        "source": "researcher",
        "reporter_name": "Ada Finder",
        "reporter_email": REPORTER,
        "preferred_channel": "email",
        "wants_credit": True,
    }
    fields.update(changes)
    return fields


def submit(client, **changes: Any):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/public/reports", json=report_fields(**changes))
