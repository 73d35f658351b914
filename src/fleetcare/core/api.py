"""REST API of the core: who am I, users, API tokens and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from fleetcare.core import audit, auth
from fleetcare.core.auth import Principal, Role
from fleetcare.core.errors import NotFound, PermissionDenied
from fleetcare.core.http import API_PREFIX, READERS, DbSession, require
from fleetcare.core.models import ApiToken, User

router = APIRouter(prefix=API_PREFIX, tags=["core"])
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
Anyone = Annotated[Principal, Depends(require(*READERS))]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeOut(BaseModel):
    email: str
    role: Role
    via: str


class UserIn(_Input):
    email: str = Field(max_length=254)
    role: Role
    password: str = Field(min_length=auth.MIN_PASSWORD_LENGTH, max_length=1024)


class UserOut(BaseModel):
    id: int
    email: str
    role: str
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class TokenIn(_Input):
    name: str = Field(default="", max_length=100)
    role: Role | None = None
    expires_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    user: str
    name: str
    prefix: str
    role: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="shown once; store it now")


class AuditEventOut(BaseModel):
    seq: int
    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: dict[str, Any]
    hash: str


class AuditVerifyOut(BaseModel):
    ok: bool
    events: int
    head_hash: str
    first_bad_seq: int | None
    problem: str


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        role=user.role,
        active=user.active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        user=token.user.email,
        name=token.name,
        prefix=token.prefix,
        role=token.role,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


@router.get("/me", response_model=MeOut)
def me(who: Anyone) -> MeOut:
    return MeOut(email=who.email, role=who.role, via=who.via)


@router.get("/users", response_model=list[UserOut])
def list_users(session: DbSession, who: Admin) -> list[UserOut]:
    return [_user_out(u) for u in auth.list_users(session)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(data: UserIn, session: DbSession, who: Admin) -> UserOut:
    user = auth.create_user(
        session, email=data.email, role=data.role, password=data.password, actor=who
    )
    session.commit()
    return _user_out(user)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(session: DbSession, who: Anyone) -> list[TokenOut]:
    """Your own tokens; an admin sees everybody's."""
    user = None if who.role is Role.ADMIN else auth.get_user_by_email(session, who.email)
    return [token_out(t) for t in auth.list_tokens(session, user)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(data: TokenIn, session: DbSession, who: Anyone) -> TokenCreated:
    """A new token for yourself, with your role or viewer; the token is in the response once."""
    user = auth.get_user_by_email(session, who.email)
    if who.role is not Role.ADMIN and data.role not in (None, who.role, Role.VIEWER):
        raise PermissionDenied(
            f"a {who.role.value} token can only mint {who.role.value} or viewer tokens"
        )
    token, clear = auth.create_token(
        session,
        user=user,
        role=data.role or who.role,
        expires_days=data.expires_days,
        name=data.name,
        actor=who,
    )
    session.commit()
    return TokenCreated(**token_out(token).model_dump(), token=clear)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, session: DbSession, who: Anyone) -> Response:
    token = session.get(ApiToken, token_id)
    if token is None or (who.role is not Role.ADMIN and token.user.email != who.email):
        # Same answer for "not yours" and "does not exist": ids are not an oracle.
        raise NotFound(f"no API token with id {token_id}")
    auth.revoke_token(session, token_id, actor=who)
    session.commit()
    return Response(status_code=204)


@router.get("/audit", response_model=list[AuditEventOut])
def list_audit(
    session: DbSession,
    who: Admin,
    object_type: Annotated[str | None, Query(max_length=50)] = None,
    object_id: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventOut]:
    events = audit.list_events(
        session,
        object_type=object_type,
        object_id=object_id,
        action=action,
        before_seq=before_seq,
        limit=limit,
    )
    return [
        AuditEventOut(
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            summary=e.summary,
            hash=e.hash,
        )
        for e in events
    ]


@router.get("/audit/verify", response_model=AuditVerifyOut)
def verify_audit(session: DbSession, who: Admin) -> AuditVerifyOut:
    result = audit.verify(session)
    return AuditVerifyOut(
        ok=result.ok,
        events=result.events,
        head_hash=result.head_hash,
        first_bad_seq=result.first_bad_seq,
        problem=result.problem,
    )
