"""Background jobs of triage: the daily check of the SLA clocks."""

from __future__ import annotations

from fleetcare.core.jobs import crontab, huey, task_db


@huey.periodic_task(crontab(minute="30", hour="6"))
def announce_overdue_findings() -> int:
    """Daily: a `finding.overdue` event for each finding that newly passed its SLA."""
    from fleetcare.core import notify
    from fleetcare.triage import service

    with task_db() as session:
        count = service.announce_overdue(session, notify.current_settings().triage_sla_days)
        session.commit()
    return count
