"""Background tasks of updates: keep TUF metadata signed, move rollouts along."""

from __future__ import annotations

from fleetcare.core.jobs import crontab, huey, task_db


@huey.periodic_task(crontab(minute="*/15"))
def resign_tuf_metadata() -> list[str]:
    """Every 15 minutes: re-sign timestamp, snapshot and targets that passed half their life."""
    from fleetcare.core.settings import get_settings
    from fleetcare.updates import repository, service

    cfg = service.config(get_settings())
    with task_db() as session:
        signed = repository.refresh(session, cfg.keys_dir, lifetimes=cfg.lifetimes)
        session.commit()
    return signed


@huey.periodic_task(crontab(minute="*"))
def advance_rollouts() -> int:
    """Every minute: add devices that joined a running rollout's target set, advance or pause
    waves by their results, and push to devices that have something new (with MQTT)."""
    from fleetcare.core.settings import get_settings
    from fleetcare.updates import push, rollouts

    with task_db() as session:
        changed = rollouts.tick(session)
        session.commit()
        for rollout_id in changed:
            push.notify_rollout(session, get_settings(), rollout_id)
    return len(changed)
