"""Advisories share the triage fixtures; the gpg-agent a test's key generation starts is ended."""

from __future__ import annotations

import pytest

from fleetcare.advisories import service
from tests.pipeline.conftest import portfolio_db  # noqa: F401 - a fixture
from tests.triage.conftest import finding_id, findings_db  # noqa: F401 - fixtures and helper


@pytest.fixture(autouse=True)
def _stop_gpg_agent(request):
    settings = request.getfixturevalue("settings") if "settings" in request.fixturenames else None
    yield
    if settings is not None:
        service.signer(settings).stop_agent()
