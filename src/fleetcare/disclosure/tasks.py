"""Background tasks of disclosure: keep security.txt from lapsing unnoticed, and remind the
team of promises to reporters that are overdue."""

from __future__ import annotations

from fleetcare.core.jobs import crontab, huey, task_db


@huey.periodic_task(crontab(minute="23", hour="7"))
def warn_before_security_txt_lapses() -> int:
    """Daily: warn the team before security.txt expires, and once when it has."""
    from fleetcare.core import notify
    from fleetcare.disclosure import service

    with task_db() as session:
        deliveries = service.security_txt_notices(session, notify.current_settings())
        session.commit()
        ids = [d.id for d in deliveries]
    notify.dispatch(ids)
    return len(ids)


@huey.periodic_task(crontab(minute="*/15"))
def remind_overdue_reports() -> int:
    """Every 15 minutes: one reminder per overdue acknowledgement or status update."""
    from fleetcare.core import notify
    from fleetcare.disclosure import service

    with task_db() as session:
        deliveries = service.overdue_reminders(session, notify.current_settings())
        session.commit()
        ids = [d.id for d in deliveries]
    notify.dispatch(ids)
    return len(ids)
