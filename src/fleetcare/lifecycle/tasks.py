"""Background tasks of the end-of-life capability: announce milestones, send their notices,
resume sending after a restart or a failure, and mark products whose support has ended."""

from __future__ import annotations

from fleetcare.core.jobs import crontab, huey, task_db


@huey.periodic_task(crontab(minute="*/10"))
def schedule_eol_notices() -> int:
    """Every ten minutes: announce each milestone that fell due (late ones too), then send."""
    from fleetcare.core import notify
    from fleetcare.lifecycle import service

    with task_db() as session:
        notice_ids = service.schedule_notices(session, notify.current_settings())
        session.commit()
    dispatch_notices(notice_ids)
    return len(notice_ids)


@huey.task()
def send_eol_notice(notice_id: int, channel: str | None = None) -> int:
    """Send the due deliveries of one notice (of one channel); retries come back through the
    sweep below."""
    from fleetcare.core import notify
    from fleetcare.lifecycle import service

    with task_db() as session:
        report = service.send_notice(session, notice_id, notify.current_settings(), channel=channel)
    return report.sent


@huey.periodic_task(crontab(minute="*"))
def resume_eol_notices() -> int:
    """Every minute: send deliveries whose retry is due or whose worker died mid-send."""
    from fleetcare.lifecycle import service

    with task_db() as session:
        notice_ids = service.notices_to_resume(session)
    for notice_id in notice_ids:
        send_eol_notice(notice_id)
    return len(notice_ids)


@huey.periodic_task(crontab(minute="15", hour="0"))
def record_support_ends() -> int:
    """Daily: mark products whose support ended, with the devices still in the field."""
    from fleetcare.lifecycle import service

    with task_db() as session:
        marked = service.record_support_ends(session)
        session.commit()
    return marked


def dispatch_notices(notice_ids: list[int]) -> None:
    """Queue sending for committed notices. A queue that is down loses nothing: the minute
    sweep finds their pending deliveries."""
    import logging

    from fleetcare.lifecycle.rules import CHANNELS

    for notice_id in notice_ids:
        try:
            for channel in CHANNELS:  # one job per channel: their I/O runs side by side
                send_eol_notice(notice_id, channel)
        except Exception:
            logging.getLogger("fleetcare.lifecycle").warning(
                "could not queue notice %s; the sweep will send it", notice_id, exc_info=True
            )
