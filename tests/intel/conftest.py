"""Paths to the real feed samples under tests/fixtures/intel (see SOURCES.md there)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "intel"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
