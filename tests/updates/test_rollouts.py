"""Rollouts: waves, thresholds, pause/resume/abort, late joiners, no downgrade, user choices."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetcare.core.errors import Conflict, RuleViolation
from fleetcare.updates import devices, rollouts
from fleetcare.updates.models import Assignment, Device
from fleetcare.updates.schemas import RolloutIn, StatusIn, UpdateSettingsIn, WaveIn, WindowIn
from tests.updates.conftest import ACTOR, add_release, enrolled, register


def _rollout(database, version="2.0.0", waves=None, **extra):  # type: ignore[no-untyped-def]
    with database.session() as session:
        rollout = rollouts.create(
            session,
            RolloutIn(
                name=f"ship {version}",
                product="gateway",
                version=version,
                waves=waves or [WaveIn(percent=100)],
                **extra,
            ),
            actor=ACTOR,
        )
        session.commit()
        return rollout.id


def _start(database, rollout_id):  # type: ignore[no-untyped-def]
    with database.session() as session:
        rollouts.start(session, rollout_id, actor=ACTOR)
        session.commit()


def _report_all(database, rollout_id, wave, statuses):  # type: ignore[no-untyped-def]
    """Report one status per device of the wave, in order, through the service."""
    with database.session() as session:
        rows = session.query(Assignment).filter_by(rollout_id=rollout_id, wave=wave).all()
        pairs = [(a.id, a.device_id) for a in rows]
    for (assignment_id, device_id), status in zip(pairs, statuses, strict=False):
        with database.session() as session:
            device = session.get(Device, device_id)
            devices.report_status(
                session, device, StatusIn(assignment=assignment_id, status=status)
            )


def _status(database, rollout_id):  # type: ignore[no-untyped-def]
    with database.session() as session:
        return rollouts.rollout_out(session, rollouts.get(session, rollout_id))


def test_three_waves_advance_on_success_and_pause_on_failures(database, settings, fleet):
    register(database, [f"dev-{i:03}" for i in range(200)])
    waves = [
        WaveIn(percent=10, success_threshold=90, failure_threshold=10),
        WaveIn(percent=50, success_threshold=90, failure_threshold=10),
        WaveIn(percent=100, success_threshold=90, failure_threshold=10),
    ]
    rollout_id = _rollout(database, waves=waves)
    _start(database, rollout_id)
    out = _status(database, rollout_id)
    sizes = [w.size for w in out.waves]
    assert sum(sizes) == 200
    assert 5 <= sizes[0] <= 40
    assert out.current_wave == 0
    _report_all(database, rollout_id, 0, ["success"] * sizes[0])
    out = _status(database, rollout_id)
    assert out.current_wave == 1
    assert out.status == "running"
    failures = sizes[1] // 10 + 1
    _report_all(database, rollout_id, 1, ["failure"] * failures)
    out = _status(database, rollout_id)
    assert out.status == "paused"
    assert "threshold of 10%" in out.pause_reason
    with database.session() as session:
        rollouts.resume(session, rollout_id, actor=ACTOR)
        with pytest.raises(Conflict):
            rollouts.resume(session, rollout_id, actor=ACTOR)
        rollouts.abort(session, rollout_id, actor=ACTOR)
        session.commit()
    out = _status(database, rollout_id)
    assert out.status == "aborted"
    assert out.waves[2].counts == {"cancelled": sizes[2]}


def test_group_waves_devices_joining_later_and_no_downgrade(database, settings, fleet):
    register(database, ["canary-1", "canary-2"], groups=["canary"])
    register(database, ["field-1", "field-2"])
    with database.session() as session:  # field-2 already runs 2.0.0
        session.query(Device).filter_by(uid="field-2").update({"installed_counter": 2})
        session.commit()
    rollout_id = _rollout(database, waves=[WaveIn(groups=["canary"]), WaveIn(percent=100)])
    _start(database, rollout_id)
    out = _status(database, rollout_id)
    assert [w.size for w in out.waves] == [2, 1]
    register(database, ["late-1"])
    from fleetcare.core.jobs import set_task_database
    from fleetcare.updates import tasks

    set_task_database(database)
    try:
        assert tasks.advance_rollouts.call_local() == 1  # the job: one rollout has news
        assert tasks.advance_rollouts.call_local() == 0
    finally:
        set_task_database(None)
    assert [w.size for w in _status(database, rollout_id).waves] == [2, 2]


def test_rollouts_need_a_signed_release_and_sane_waves(database, settings, fleet):
    add_release(database, settings, "3.0.0", sign=False)
    with pytest.raises(RuleViolation, match="not signed"):
        _rollout(database, version="3.0.0")
    with pytest.raises(RuleViolation, match="cumulative"):
        _rollout(database, waves=[WaveIn(percent=50), WaveIn(percent=20)])


def test_checkin_offers_security_automatically_unless_opted_out_or_postponed(
    client, database, settings, fleet, tmp_path
):
    register(database, ["dev-1", "dev-2"], customer="ACME")
    first, second = enrolled(client, tmp_path, "dev-1"), enrolled(client, tmp_path, "dev-2")
    first.checkin(installed="1.0.0")
    second.checkin(installed="1.0.0")
    _start(database, _rollout(database))
    assignment = first.checkin().json()["assignment"]
    assert assignment["install"] == "automatic"
    assert assignment["version"] == "2.0.0"
    assert assignment["release_counter"] == 2
    assert assignment["targets"] == [f"{fleet.product_id}/2.0.0/image.bin"]
    today = dt.date.today()
    with database.session() as session:
        devices.set_device_update_settings(
            session, settings, "dev-1", UpdateSettingsIn(security_updates="opt_out"), actor=ACTOR
        )
        with pytest.raises(RuleViolation, match="at most 30 days"):
            devices.set_customer_update_settings(
                session,
                settings,
                "ACME",
                UpdateSettingsIn(postponed_until=today + dt.timedelta(days=31)),
                actor=ACTOR,
            )
        devices.set_customer_update_settings(
            session,
            settings,
            "ACME",
            UpdateSettingsIn(postponed_until=today + dt.timedelta(days=7)),
            actor=ACTOR,
        )
        session.commit()
    opted = first.checkin().json()
    assert opted["security_updates"]["choice"] == "opt_out"
    assert opted["assignment"]["install"] == "offered"
    postponed = second.checkin().json()
    assert postponed["security_updates"] == {
        "choice": "postponed",
        "postponed_until": (today + dt.timedelta(days=7)).isoformat(),
    }
    assert postponed["assignment"]["install"] == "offered"


def test_feature_releases_are_only_offered_and_windows_hold_installs(
    client, database, settings, fleet, tmp_path
):
    add_release(database, settings, "2.1.0", kind="feature")
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    device.checkin(installed="2.0.0")
    now = dt.datetime.now(dt.UTC)
    closed = WindowIn(days=[(now.weekday() + 3) % 7], start="00:00", end="01:00")
    held = _rollout(database, version="2.1.0", windows=[closed])
    _start(database, held)
    # Offered outside the window too, to be downloaded ahead; installed only inside one.
    assert device.checkin().json()["assignment"]["window"] == "closed"
    with database.session() as session:
        rollouts.abort(session, held, actor=ACTOR)
        session.commit()
    _start(database, _rollout(database, version="2.1.0"))
    assignment = device.checkin().json()["assignment"]
    assert assignment["install"] == "offered"
    assert assignment["kind"] == "feature"


def test_status_reports_are_idempotent_and_only_for_the_own_device(
    client, database, settings, fleet, tmp_path
):
    register(database, ["dev-1", "dev-2"])
    first, second = enrolled(client, tmp_path, "dev-1"), enrolled(client, tmp_path, "dev-2")
    _start(database, _rollout(database))
    assignment = first.checkin().json()["assignment"]["id"]
    assert second.report(assignment, "success").status_code == 404
    assert first.report(assignment, "downloading").json()["changed"] is True
    assert first.report(assignment, "downloading").json()["changed"] is False
    assert first.checkin().json()["poll_seconds"] == 60
    assert first.report(assignment, "success").json()["changed"] is True
    assert first.report(assignment, "success").json()["changed"] is False
    late = first.report(assignment, "failure")
    assert late.status_code == 409
    body = first.checkin().json()
    assert body["installed"] == {"version": "2.0.0", "release_counter": 2}
    assert body["assignment"] is None


def test_feature_rollouts_stop_at_support_end(database, settings, fleet):
    from fleetcare.portfolio.models import Product

    add_release(database, settings, "2.1.0", kind="feature")
    with database.session() as session:
        product = session.get(Product, fleet.product_id)
        product.placed_on_market = dt.date(2019, 1, 1)
        product.support_end = dt.date(2025, 6, 30)
        session.commit()
    with pytest.raises(RuleViolation, match="support end"):
        _rollout(database, version="2.1.0")
    _start(database, _rollout(database, version="2.0.0"))  # security still goes out
