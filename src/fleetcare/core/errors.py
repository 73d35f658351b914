"""Errors a user can cause, named after what went wrong.

Services raise these; the API turns them into `{"error": ..., "detail": ...}` with the status
code below, and the CLI prints the message on one line and exits with code 2. Anything else is a
bug: it is logged with its traceback and the user sees a plain 500 without internals.
"""

from __future__ import annotations

from typing import Any


class FleetcareError(Exception):
    status_code = 400
    error = "bad request"

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "detail": self.detail}


class NotFound(FleetcareError):
    status_code = 404


class Conflict(FleetcareError):
    """The request clashes with what is stored (a duplicate name, a state that forbids it)."""

    status_code = 409


class RuleViolation(FleetcareError):
    """The request breaks a domain rule, such as the CRA minimum support period."""

    status_code = 422


class InvalidInput(FleetcareError):
    status_code = 422


class NotAuthenticated(FleetcareError):
    status_code = 401


class PermissionDenied(FleetcareError):
    status_code = 403


class RateLimited(FleetcareError):
    status_code = 429


class TooLarge(FleetcareError):
    status_code = 413
