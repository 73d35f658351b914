"""Errors of disclosure that the core's error set does not name."""

from __future__ import annotations

from fleetcare.core.errors import FleetcareError


class PayloadTooLarge(FleetcareError):
    """A request body or attachment over the configured size; nothing of it was stored."""

    status_code = 413
