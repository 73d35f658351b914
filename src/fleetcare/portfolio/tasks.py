"""Background tasks of the portfolio."""

from __future__ import annotations

from fleetcare.core.jobs import crontab, huey, task_db


@huey.periodic_task(crontab(minute="5", hour="0"))
def record_support_status_changes() -> int:
    """Daily: write an audit event for each product whose support status changed."""
    from fleetcare.portfolio import service

    with task_db() as session:
        changed = service.record_support_status_changes(session)
        session.commit()
    return changed
