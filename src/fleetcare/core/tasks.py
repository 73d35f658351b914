"""Background tasks of the core."""

from __future__ import annotations

import logging

from fleetcare.core import audit
from fleetcare.core.jobs import crontab, huey, task_db

log = logging.getLogger("fleetcare.tasks")


@huey.periodic_task(crontab(minute="17", hour="3"))
def verify_audit_chain() -> bool:
    """Nightly: recompute the audit chain and log loudly if it was tampered with."""
    with task_db() as session:
        result = audit.verify(session)
    if not result.ok:
        log.error(
            "audit log verification failed: %s",
            result.problem,
            extra={"first_bad_seq": result.first_bad_seq},
        )
    else:
        log.info("audit log verified", extra={"events": result.events, "head": result.head_hash})
    return result.ok
