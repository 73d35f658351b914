"""The audit log: one hash-chained event for every change of state.

Call `record()` inside the same transaction as the change it describes, so that either both
are stored or neither. Each event's hash covers its own fields and the previous event's hash;
`verify()` recomputes the chain and names the first event that was edited, or the first gap
where events were deleted. The head hash it returns can be written down elsewhere (a ticket, a
notary) to anchor the log against rewriting from the first event on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fleetcare.core.db import utcnow
from fleetcare.core.models import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64


def _canonical(value: Any) -> Any:
    """JSON-native copy of `value`, so the hash computed now matches the one recomputed later."""
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def event_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    summary: dict[str, Any],
    prev_hash: str,
) -> str:
    payload = json.dumps(
        {
            "seq": seq,
            "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "summary": summary,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the chain within the caller's transaction."""
    summary: dict[str, Any] = {}
    if before is not None:
        summary["before"] = before
    if after is not None:
        summary["after"] = after
    summary = _canonical(summary)
    # The UPDATE comes first: it takes the lock that orders concurrent writers (see AuditHead).
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=1, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    at = utcnow()
    fields: dict[str, Any] = {
        "seq": head.seq,
        "at": at,
        "actor": actor[:300],
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "summary": summary,
        "prev_hash": head.last_hash,
    }
    digest = event_hash(**fields)
    event = AuditEvent(**fields, hash=digest)
    session.add(event)
    head.last_hash = digest
    session.flush()
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walk the whole chain in order and report the first inconsistency."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_seq = 0
    while True:
        rows = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > last_seq)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return VerifyResult(
                    False,
                    count,
                    expected_prev,
                    expected_seq,
                    f"event {expected_seq} is missing (deleted); the next one is {event.seq}",
                )
            if event.prev_hash != expected_prev:
                return VerifyResult(
                    False,
                    count,
                    expected_prev,
                    event.seq,
                    f"event {event.seq} does not chain to event {event.seq - 1}",
                )
            digest = event_hash(
                seq=event.seq,
                at=event.at,
                actor=event.actor,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                summary=event.summary,
                prev_hash=event.prev_hash,
            )
            if digest != event.hash:
                return VerifyResult(
                    False,
                    count,
                    expected_prev,
                    event.seq,
                    f"event {event.seq} was edited: its content no longer matches its hash",
                )
            expected_prev = event.hash
            expected_seq += 1
            count += 1
            last_seq = event.seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and head.seq != count:
        return VerifyResult(
            False,
            count,
            expected_prev,
            count + 1,
            f"the log ends at event {count} but {head.seq} were written: "
            "events were cut off the end",
        )
    if head is not None and head.last_hash != expected_prev:
        return VerifyResult(
            False,
            count,
            expected_prev,
            count,
            f"event {count} is not the event the log head recorded last",
        )
    return VerifyResult(True, count, expected_prev)


def list_events(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest first; page with `before_seq` set to the last seq of the previous page."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    return list(session.execute(query).scalars())
