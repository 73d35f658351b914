"""Background jobs of the vulnerability feeds: a nightly online sync of every source."""

from __future__ import annotations

import logging

from fleetcare.core.jobs import crontab, huey, task_db

log = logging.getLogger("fleetcare.intel")

#: Records first, enrichment after (KEV and EPSS annotate what the record feeds stored).
NIGHTLY_ORDER = ("osv", "nvd", "euvd", "kev", "epss")


@huey.task(retries=3, retry_delay=300)
def sync_feed_online(source: str) -> str:
    """Download one source from its official URL, import it, re-match what changed."""
    from fleetcare.core.errors import FleetcareError
    from fleetcare.core.settings import get_settings
    from fleetcare.intel import service, store
    from fleetcare.wiring import connect

    connect()
    settings = get_settings()
    try:
        with task_db() as session:
            result = service.sync(
                session,
                source,
                None,
                osv_ecosystems=settings.osv_ecosystems,
                nvd_api_key=settings.nvd_api_key or None,
            )
            session.commit()
    except FleetcareError as exc:
        # The import was rolled back whole; the failure is noted in a transaction of its own.
        with task_db() as session:
            store.record_feed_failure(session, source, exc.message)
            session.commit()
        raise
    log.info("online feed sync done: %s", result.line())
    return result.line()


@huey.periodic_task(crontab(minute="30", hour="2"))
def nightly_feed_sync() -> None:
    """Queue every source's online sync in the order that keeps KEV and EPSS current."""
    for source in NIGHTLY_ORDER:
        sync_feed_online(source)
