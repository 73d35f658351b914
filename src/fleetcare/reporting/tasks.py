"""Background tasks of Article 14 reporting: deadline alerts and case proposals."""

from __future__ import annotations

from fleetcare.core.jobs import crontab, huey, task_db


@huey.periodic_task(crontab(minute="*/5"))
def alert_article14_deadlines() -> int:
    """Every five minutes: alerts at each lead time before a deadline and when it is missed."""
    from fleetcare.core import notify
    from fleetcare.reporting import service

    with task_db() as session:
        deliveries = service.deadline_alerts(session, notify.current_settings())
        session.commit()
        ids = [d.id for d in deliveries]
    notify.dispatch(ids)
    return len(ids)


@huey.periodic_task(crontab(minute="*/10"))
def propose_article14_cases() -> int:
    """Every ten minutes: propose a case for each known-exploited vulnerability on a released
    product (each is proposed once; a person confirms awareness)."""
    from fleetcare.core import notify
    from fleetcare.reporting import service

    with task_db() as session:
        cases, deliveries = service.propose_cases(session, settings=notify.current_settings())
        session.commit()
        ids = [d.id for d in deliveries]
    notify.dispatch(ids)
    return len(cases)
