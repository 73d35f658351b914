"""FastAPI plumbing shared by every capability's router: sessions, who is calling, and errors.

Every route declares who may call it, in one of two ways, and a test walks all routes to check:

    Reader = Annotated[Principal, Depends(require(*READERS))]

    @router.get("/products")
    def list_products(session: DbSession, who: Reader): ...

    @router.get("/public/support", dependencies=[Depends(public("support"))])
    def public_support(...): ...

`require(...)` admits API tokens with one of the given roles (admins always), `public(bucket)`
admits anyone but rate-limits per client address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from fleetcare.core.auth import ALL_ROLES, Principal, Role, principal_for_token
from fleetcare.core.errors import (
    FleetcareError,
    NotAuthenticated,
    PermissionDenied,
    RateLimited,
    TooLarge,
)
from fleetcare.core.ratelimit import SlidingWindowLimiter

log = logging.getLogger("fleetcare.http")

#: Every API router is created with this prefix (so metrics see full route templates).
API_PREFIX = "/api/v1"

#: Everyone with an account may read.
READERS = tuple(ALL_ROLES)


def db_session(request: Request) -> Iterator[Session]:
    with request.app.state.db.session() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise NotAuthenticated("missing API token: send the header 'Authorization: Bearer <token>'")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
    return value.strip()


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting API tokens whose role is one of `roles` (admins always)."""
    allowed = frozenset(roles) | {Role.ADMIN}

    def authorize(request: Request, session: DbSession) -> Principal:
        principal = principal_for_token(session, _bearer(request))
        if principal.role not in allowed:
            raise PermissionDenied(
                f"role {principal.role.value} may not do this; it needs one of: "
                + ", ".join(sorted(r.value for r in allowed))
            )
        request.state.principal = principal
        return principal

    authorize.fleetcare_roles = allowed  # type: ignore[attr-defined]
    return authorize


def public(bucket: str, per_minute: int | None = None) -> Callable[..., None]:
    """A dependency for endpoints anyone may call, rate-limited per client address.

    Each bucket counts apart; `per_minute` overrides `FLEETCARE_PUBLIC_RATE_LIMIT` for it.
    """

    def rate_limited(request: Request) -> None:
        limiters = request.app.state.rate_limiters
        limiter = limiters.get(bucket)
        if limiter is None:
            limit = per_minute or request.app.state.settings.public_rate_limit
            limiter = limiters.setdefault(bucket, SlidingWindowLimiter(limit))
        client = request.client.host if request.client else "unknown"
        retry_after = limiter.hit(client)
        if retry_after is not None:
            raise RateLimited(
                f"too many requests; try again in {retry_after} seconds",
                {"retry_after": retry_after},
            )

    rate_limited.fleetcare_public = bucket  # type: ignore[attr-defined]
    return rate_limited


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `max_bytes` (never read whole)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"the request body is larger than the limit of {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"the request body is larger than the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _error_response(status: int, error: str, detail: Any = None) -> JSONResponse:
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 429 and isinstance(detail, dict) and "retry_after" in detail:
        headers["Retry-After"] = str(detail["retry_after"])
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _describe_validation(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    detail = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        detail.append({"field": ".".join(loc) or "body", "problem": err.get("msg", "")})
    if any(err.get("type") == "json_invalid" for err in errors):
        return "malformed JSON in the request body", detail
    first = detail[0] if detail else {"field": "body", "problem": "invalid"}
    return f"invalid request: {first['field']}: {first['problem']}", detail


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FleetcareError)
    async def _domain_error(request: Request, exc: FleetcareError) -> JSONResponse:
        return _error_response(exc.status_code, exc.message, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, detail = _describe_validation(list(exc.errors()))
        status = 400 if message.startswith("malformed") else 422
        return _error_response(status, message, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        return _error_response(exc.status_code, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_response(500, "internal error; the server log has the details")
