"""Abuse controls for the public report intake, shared by the API and the report page.

- Size: `LimitedBodyRoute` reads a request body up to a limit before anything parses it, so an
  oversized or endless body costs a bounded amount of memory and gets 413.
- Rate: each client address may file `report_rate_limit` reports per hour. Only reports that
  would be stored count, so an honest reporter fixing a typo in a refused form loses nothing;
  the public per-minute limit still bounds everything else.
- Robots: a honeypot field people never see, and on the page a signed form time; a report that
  trips either is kept in quarantine for a person to release, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Message

from fleetcare.core.errors import RateLimited
from fleetcare.core.ratelimit import SlidingWindowLimiter
from fleetcare.core.settings import Settings
from fleetcare.disclosure.errors import PayloadTooLarge

#: Room for every text field at its maximum, on top of the attachment.
TEXT_ALLOWANCE = 256 * 1024
INTAKE_BUCKET = "report-intake"


def request_limit(settings: Settings, *, base64: bool) -> int:
    """Largest acceptable body: the attachment (grown by a third when base64-encoded) plus
    the text fields."""
    attachment = settings.report_attachment_max_bytes
    return (attachment * 4 // 3 + 4 if base64 else attachment) + TEXT_ALLOWANCE


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request is larger than {limit} bytes; shorten the text or link to large files",
        {"max_bytes": limit},
    )


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise _too_large(limit)  # a malformed length is refused like an excessive one
        if int(declared) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Coroutine[Any, Any, Message]]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class LimitedBodyRoute(APIRoute):
    """A route whose request body is capped before FastAPI or the form parser reads it.

    The cap is `request_limit()` for JSON (base64 attachments) and for forms (raw files)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                settings = request.app.state.settings
                is_json = request.headers.get("content-type", "").startswith("application/json")
                body = await read_limited(request, request_limit(settings, base64=is_json))
                request = Request(request.scope, receive=_replay(body))
            return await handler(request)

        return limited


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def intake_retry_after(request: Request) -> int | None:
    """Count one report from this address; the seconds to wait if it is over the hourly limit."""
    limiters = request.app.state.rate_limiters
    limiter = limiters.get(INTAKE_BUCKET)
    if limiter is None:
        limit = request.app.state.settings.report_rate_limit
        limiter = limiters.setdefault(INTAKE_BUCKET, SlidingWindowLimiter(limit, 3600.0))
    retry: int | None = limiter.hit(client_address(request))
    return retry


def check_intake_rate(request: Request) -> None:
    retry_after = intake_retry_after(request)
    if retry_after is not None:
        minutes = max(1, round(retry_after / 60))
        raise RateLimited(
            f"too many reports from your address; try again in about {minutes} minutes, or "
            "write to the security contact in /.well-known/security.txt",
            {"retry_after": retry_after},
        )
