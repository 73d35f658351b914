"""Tests of fleetcare.intel; FIXTURES is where the feed samples live (see SOURCES.md there)."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "intel"
