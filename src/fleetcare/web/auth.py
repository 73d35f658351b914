"""Dashboard logins: a session cookie, CSRF tokens on every form, and per-page role rules.

The session cookie is HttpOnly, SameSite=Lax and (with `FLEETCARE_SECURE_COOKIES`) Secure; it
holds a random id whose hash is stored server-side, so logging out ends the session everywhere.
Every state-changing form carries the session's CSRF token. The login form, which comes before
any session, uses a signed double-submit cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Annotated, Any, get_args

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from fleetcare.core.auth import ALL_ROLES, Principal, Role, web_session_for_cookie
from fleetcare.core.errors import FleetcareError, PermissionDenied

SESSION_COOKIE = "fleetcare_session"
LOGIN_CSRF_COOKIE = "fleetcare_login_csrf"


class LoginRequired(FleetcareError):
    """Raised by page dependencies; the web layer answers with a redirect to /login."""

    status_code = 303


class CsrfFailed(FleetcareError):
    status_code = 403


def page(*roles: Role) -> Callable[..., Principal]:
    """A dependency for dashboard pages: a logged-in user with one of `roles` (admins always)."""
    allowed = frozenset(roles) | {Role.ADMIN}

    def authorize(request: Request) -> Principal:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        with request.app.state.db.session() as session:
            found = web_session_for_cookie(session, cookie)
        if found is None:
            raise LoginRequired("log in first", {"next": request.url.path})
        web, principal = found
        # Set before the role check, so that a refusal page still shows who is logged in.
        request.state.principal = principal
        request.state.csrf_token = web.csrf_token
        if principal.role not in allowed:
            raise PermissionDenied(f"your role ({principal.role.value}) may not open this page")
        return principal

    authorize.fleetcare_roles = allowed  # type: ignore[attr-defined]
    return authorize


ANY_USER = tuple(ALL_ROLES)

#: Who may open which pages and send which forms; the same roles as the matching API calls.
AnyUser = Annotated[Principal, Depends(page(*ANY_USER))]
ProductManager = Annotated[Principal, Depends(page(Role.PRODUCT))]
ReleaseManager = Annotated[Principal, Depends(page(Role.RELEASE, Role.PRODUCT))]
SbomUploader = Annotated[Principal, Depends(page(Role.RELEASE, Role.PRODUCT, Role.SECURITY))]
SecurityAnalyst = Annotated[Principal, Depends(page(Role.SECURITY))]


def allowed(principal: Principal | None, rule: Any) -> bool:
    """Whether `principal` passes `rule` (one of the aliases above), so that a page offers only
    the buttons and forms its user may send, by the same rule the form's route enforces."""
    roles: frozenset[Role] = get_args(rule)[1].dependency.fleetcare_roles
    return principal is not None and principal.role in roles


async def check_csrf(request: Request) -> dict[str, Any]:
    """Read the submitted form and check its CSRF token against the session's."""
    form = dict(await request.form())
    expected = getattr(request.state, "csrf_token", "")
    given = str(form.get("csrf_token", ""))
    if not expected or not hmac.compare_digest(expected, given):
        raise CsrfFailed("the form expired or did not come from this site; reload and try again")
    return {k: v for k, v in form.items() if k != "csrf_token"}


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="login-csrf")


def new_login_csrf(request: Request) -> tuple[str, str]:
    """(value for the form, signed value for the cookie)."""
    value = secrets.token_urlsafe(24)
    return value, _serializer(request).dumps(value)


def check_login_csrf(request: Request, submitted: str) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    try:
        expected = _serializer(request).loads(cookie, max_age=3600)
    except BadSignature:
        raise CsrfFailed("the login form expired; reload the page and try again") from None
    if not isinstance(expected, str) or not hmac.compare_digest(expected, submitted):
        raise CsrfFailed("the login form expired; reload the page and try again")
