"""REST API of the notification plumbing: webhook receivers (admins) and delivery records."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fleetcare.core import notify
from fleetcare.core.auth import Principal, Role
from fleetcare.core.http import API_PREFIX, DbSession, require
from fleetcare.core.notify_models import Delivery, WebhookEndpoint

router = APIRouter(prefix=API_PREFIX, tags=["notifications"])
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
Psirt = Annotated[Principal, Depends(require(Role.SECURITY))]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=2000)
    #: Event names ("case.deadline"), prefixes ("case.*") or "*" for everything.
    events: list[str] = Field(default_factory=lambda: ["*"], max_length=50)


class WebhookOut(BaseModel):
    id: int
    name: str
    url: str
    events: list[str]
    active: bool
    created_at: dt.datetime
    created_by: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="signing secret, shown once; keep it in the receiver")


class DeliveryOut(BaseModel):
    id: int
    channel: str
    target: str
    event: str
    subject: str
    status: str
    attempts: int
    last_error: str
    object_type: str
    object_id: str
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None


def webhook_out(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut(
        id=endpoint.id,
        name=endpoint.name,
        url=endpoint.url,
        events=list(endpoint.events),
        active=endpoint.active,
        created_at=endpoint.created_at,
        created_by=endpoint.created_by,
    )


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        channel=delivery.channel,
        target=delivery.target,
        event=delivery.event,
        subject=delivery.subject,
        status=delivery.status,
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        object_type=delivery.object_type,
        object_id=delivery.object_id,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at,
        sent_at=delivery.sent_at,
    )


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(session: DbSession, who: Admin) -> list[WebhookOut]:
    return [webhook_out(w) for w in notify.list_webhooks(session)]


@router.post("/webhooks", response_model=WebhookCreated, status_code=201)
def create_webhook(
    data: WebhookIn, request: Request, session: DbSession, who: Admin
) -> WebhookCreated:
    """Add a receiver. Calls are signed with HMAC-SHA256 (X-Fleetcare-Signature over
    "<X-Fleetcare-Timestamp>.<body>") with the secret returned here once."""
    endpoint, secret = notify.create_webhook(
        session,
        name=data.name,
        url=data.url,
        events=data.events,
        actor=who,
        settings=request.app.state.settings,
    )
    session.commit()
    return WebhookCreated(**webhook_out(endpoint).model_dump(), secret=secret)


@router.delete("/webhooks/{webhook_id}", status_code=204)
def remove_webhook(webhook_id: int, session: DbSession, who: Admin) -> Response:
    notify.remove_webhook(session, webhook_id, actor=who)
    session.commit()
    return Response(status_code=204)


@router.get("/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    session: DbSession,
    who: Psirt,
    object_type: Annotated[str | None, Query(max_length=50)] = None,
    object_id: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """Emails and webhook calls, newest first, with their attempts and last error."""
    return [
        delivery_out(d)
        for d in notify.list_deliveries(
            session, object_type=object_type, object_id=object_id, status=status, limit=limit
        )
    ]
