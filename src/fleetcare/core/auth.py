"""Users, roles, API tokens and dashboard sessions.

Roles are coarse and match the people in DESIGN.md: `admin` may do everything, `security` runs
vulnerability handling, `release` ships firmware, `product` owns the portfolio and support
periods, `viewer` reads. Every endpoint names the roles it admits (see `fleetcare.core.http`);
admins are always admitted.

Passwords are hashed with argon2id. API tokens and session ids are 256-bit random values, so a
single SHA-256 is enough to store them safely; the clear value is shown once and never kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetcare.core import audit
from fleetcare.core.db import utcnow
from fleetcare.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from fleetcare.core.models import ApiToken, User, WebSession


class Role(StrEnum):
    ADMIN = "admin"
    SECURITY = "security"
    RELEASE = "release"
    PRODUCT = "product"
    VIEWER = "viewer"


ALL_ROLES = frozenset(Role)
TOKEN_PREFIX = "fct_"  # noqa: S105 - a marker, not a secret
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps a login for an unknown email as slow as one for a known
    email. Made on first use: hashing costs ~0.2 s, which every CLI command paid at import."""
    return _hasher.hash("fleetcare-timing-equaliser")


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user through a token, a web session, the CLI or a background job."""

    user_id: int | None
    email: str
    role: Role
    via: str  # "token", "session", "cli" or "job"
    token_id: int | None = None

    @property
    def actor(self) -> str:
        if self.via == "token":
            return f"{self.email} (token {self.token_id})"
        if self.via in ("cli", "job"):
            return f"{self.via}:{self.email}"
        return self.email


def system_principal(name: str = "system", via: str = "job") -> Principal:
    return Principal(user_id=None, email=name, role=Role.ADMIN, via=via)


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(
            f"unknown role {value!r}; choose one of: {', '.join(r.value for r in Role)}"
        ) from None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise InvalidInput("password too long: use at most 1024 characters")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise InvalidInput(f"not an email address: {email!r}")
    return email


# --- users -------------------------------------------------------------------------------


def create_user(
    session: Session, *, email: str, role: Role, password: str, actor: Principal
) -> User:
    email = normalise_email(email)
    check_password_strength(password)
    if session.execute(select(User.id).where(User.email == email)).first():
        raise Conflict(f"a user with email {email} already exists")
    user = User(email=email, role=role.value, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        after={"email": email, "role": role.value},
    )
    return user


def list_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.email)).scalars())


def get_user_by_email(session: Session, email: str) -> User:
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar()
    if user is None:
        raise NotFound(f"no user with email {email}")
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The active user with these credentials, or NotAuthenticated (same message either way)."""
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar()
    if user is None or not user.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password)
        raise NotAuthenticated("wrong email or password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise NotAuthenticated("wrong email or password") from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


# --- API tokens --------------------------------------------------------------------------


def _check_token_role(user: User, role: Role) -> None:
    """A token may carry the user's own role or `viewer`; only admins mint other roles."""
    if user.role == Role.ADMIN or role in (Role(user.role), Role.VIEWER):
        return
    raise InvalidInput(
        f"a token for {user.email} may have role {user.role} or viewer, not {role.value}"
    )


def create_token(
    session: Session,
    *,
    user: User,
    role: Role | None = None,
    expires_days: int | None = 90,
    name: str = "",
    actor: Principal,
) -> tuple[ApiToken, str]:
    """Mint a token; returns the stored row and the clear token, which is never shown again."""
    role = role or Role(user.role)
    _check_token_role(user, role)
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise InvalidInput("expiry must be between 1 and 3650 days")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name[:100],
        prefix=clear[:12],
        token_hash=_sha256(clear),
        role=role.value,
        expires_at=utcnow() + dt.timedelta(days=expires_days) if expires_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="token.create",
        object_type="api_token",
        object_id=token.id,
        after={"user": user.email, "role": role.value, "expires_at": token.expires_at},
    )
    return token, clear


def revoke_token(session: Session, token_id: int, *, actor: Principal) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor.actor,
            action="token.revoke",
            object_type="api_token",
            object_id=token.id,
        )
    return token


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.execute(query).scalars())


def principal_for_token(session: Session, clear: str) -> Principal:
    if not clear.startswith(TOKEN_PREFIX) or len(clear) > 200:
        raise NotAuthenticated("invalid API token")
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _sha256(clear))
    ).first()
    if row is None:
        raise NotAuthenticated("invalid API token")
    token, user = row
    now = utcnow()
    if token.revoked_at is not None:
        raise NotAuthenticated("this API token was revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise NotAuthenticated("this API token has expired; create a new one")
    if not user.active:
        raise NotAuthenticated("the user of this API token is deactivated")
    return Principal(user.id, user.email, Role(token.role), "token", token.id)


# --- dashboard sessions ------------------------------------------------------------------


def start_web_session(session: Session, user: User, hours: int) -> tuple[WebSession, str]:
    clear = secrets.token_urlsafe(32)
    web = WebSession(
        user_id=user.id,
        session_hash=_sha256(clear),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + dt.timedelta(hours=hours),
    )
    session.add(web)
    session.flush()
    audit.record(
        session, actor=user.email, action="session.start", object_type="user", object_id=user.id
    )
    return web, clear


def web_session_for_cookie(session: Session, clear: str) -> tuple[WebSession, Principal] | None:
    if not clear or len(clear) > 100:
        return None
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.session_hash == _sha256(clear))
    ).first()
    if row is None:
        return None
    web, user = row
    if web.expires_at <= utcnow() or not user.active:
        return None
    return web, Principal(user.id, user.email, Role(user.role), "session")


def end_web_session(session: Session, clear: str) -> None:
    web = session.execute(
        select(WebSession).where(WebSession.session_hash == _sha256(clear))
    ).scalar()
    if web is not None:
        audit.record(
            session,
            actor=web.user.email,
            action="session.end",
            object_type="user",
            object_id=web.user_id,
        )
        session.delete(web)
