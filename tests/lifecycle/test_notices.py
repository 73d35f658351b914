"""Notices at milestones: once per milestone, resumed without duplicates after a crash in the
middle of sending, sent late after downtime, and to exactly the customers with devices."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from fleetcare.core import notify
from fleetcare.lifecycle import rules, service
from fleetcare.lifecycle.models import Notice, NoticeDelivery
from tests.lifecycle.conftest import SETUP, make_fleet

#: 24 months before 31 March 2031 is 31 March 2029, 09:00 in Berlin (summer time) = 07:00 UTC.
DUE_24 = dt.datetime(2029, 3, 31, 7, tzinfo=dt.UTC)


class Recorder:
    """Stands in for the channels: records what would have been sent; can crash the process."""

    def __init__(self, crash_after: int | None = None) -> None:
        self.sent: list[tuple[str, int]] = []
        self.crash_after = crash_after

    def __call__(self, channels, delivery, notice, customer) -> None:  # type: ignore[no-untyped-def]
        if self.crash_after is not None and len(self.sent) >= self.crash_after:
            raise KeyboardInterrupt("the worker was killed")
        self.sent.append((customer.ref, delivery.id))


@pytest.fixture
def recorder(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(service, "_send", recorder)
    return recorder


def _schedule(database, settings, now):
    with database.session() as session:
        ids = service.schedule_notices(session, settings, now)
        session.commit()
        return ids


def _send(database, settings, notice_id, now):
    with database.session() as session:
        return service.send_notice(session, notice_id, settings, now=lambda: now)


def test_a_due_milestone_becomes_one_notice_to_each_customer_with_devices(
    database, eol_settings, recorder
):
    fleet = make_fleet(database, eol_settings, customers=3, devices_each=2)
    with database.session() as session:  # a customer without devices hears nothing
        from fleetcare.lifecycle.schemas import CustomerIn

        service.save_customer(
            session,
            CustomerIn(ref="idle", name="No devices", emails=["idle@example.test"]),
            actor=SETUP,
            settings=eol_settings,
        )
        session.commit()
    assert _schedule(database, eol_settings, DUE_24 - dt.timedelta(minutes=1)) == []
    [notice_id] = _schedule(database, eol_settings, DUE_24 + dt.timedelta(minutes=5))
    report = _send(database, eol_settings, notice_id, DUE_24 + dt.timedelta(minutes=6))
    assert report.sent == 3
    assert sorted(ref for ref, _ in recorder.sent) == ["c1", "c2", "c3"]
    with database.session() as session:
        notice = session.get(Notice, notice_id)
        assert notice is not None
        assert (notice.status, notice.late, notice.months_before) == ("sent", False, 24)
        assert (notice.customers, notice.devices) == (3, 6)
        assert notice.support_end == fleet.support_end
    # The job runs again and again: the milestone is not announced twice.
    assert _schedule(database, eol_settings, DUE_24 + dt.timedelta(minutes=15)) == []
    assert _schedule(database, eol_settings, DUE_24 + dt.timedelta(days=30)) == []


def test_no_duplicate_after_a_restart_in_the_middle_of_sending(database, eol_settings, monkeypatch):
    make_fleet(database, eol_settings, customers=12, devices_each=1)
    [notice_id] = _schedule(database, eol_settings, DUE_24)
    crashing = Recorder(crash_after=5)
    monkeypatch.setattr(service, "_send", crashing)
    monkeypatch.setattr(service, "CLAIM_BATCH", 4)
    with pytest.raises(KeyboardInterrupt):
        _send(database, eol_settings, notice_id, DUE_24)
    assert len(crashing.sent) == 5
    with database.session() as session:
        states = dict(
            session.execute(
                select(NoticeDelivery.status, func.count()).group_by(NoticeDelivery.status)
            ).all()
        )
    # Five sent and recorded; the crashed batch is left claimed; the rest still pending.
    assert states == {"sent": 5, "sending": 3, "pending": 4}

    # The server restarts: the scheduler does not announce the milestone again, and the
    # resumed send finishes the rest once the dead worker's claim has expired.
    assert _schedule(database, eol_settings, DUE_24 + dt.timedelta(minutes=1)) == []
    resumed = Recorder()
    monkeypatch.setattr(service, "_send", resumed)
    soon = DUE_24 + dt.timedelta(minutes=2)
    with database.session() as session:
        assert service.notices_to_resume(session, soon) == [notice_id]
    _send(database, eol_settings, notice_id, soon)
    assert len(resumed.sent) == 4  # the pending ones; claimed ones wait for STUCK_AFTER
    later = DUE_24 + service.STUCK_AFTER + dt.timedelta(minutes=3)
    with database.session() as session:
        assert service.notices_to_resume(session, later) == [notice_id]
    _send(database, eol_settings, notice_id, later)
    everyone = [ref for ref, _ in crashing.sent + resumed.sent]
    assert sorted(everyone) == sorted(f"c{n}" for n in range(1, 13))  # each exactly once
    with database.session() as session:
        notice = session.get(Notice, notice_id)
        assert notice is not None
        assert notice.status == "sent"
        assert service.notices_to_resume(session, later + dt.timedelta(hours=1)) == []


def test_a_missed_milestone_is_sent_late_and_marked_late(database, eol_settings, recorder):
    make_fleet(database, eol_settings, customers=2)
    [first] = _schedule(database, eol_settings, DUE_24)
    _send(database, eol_settings, first, DUE_24)
    # The server was down from before the 12-month milestone (31 March 2030) until 3 April.
    back = dt.datetime(2030, 4, 3, 10, tzinfo=dt.UTC)
    [late] = _schedule(database, eol_settings, back)
    _send(database, eol_settings, late, back)
    with database.session() as session:
        notice = session.get(Notice, late)
        assert notice is not None
        assert (notice.months_before, notice.late, notice.status) == (12, True, "sent")
        rows = service.list_notices(session)
    assert [(n.months_before, n.late) for n in rows] == [(12, True), (24, False)]


def test_after_months_of_downtime_the_newest_milestone_goes_out_and_older_are_superseded(
    database, eol_settings, recorder
):
    make_fleet(database, eol_settings, customers=1)
    back = dt.datetime(2030, 11, 2, 9, tzinfo=dt.UTC)  # past the 24, 12 and 6 months milestones
    [notice_id] = _schedule(database, eol_settings, back)
    with database.session() as session:
        notices = {n.months_before: n.status for n in session.execute(select(Notice)).scalars()}
    assert notices == {6: "sending", 12: "superseded", 24: "superseded"}
    _send(database, eol_settings, notice_id, back)
    assert len(recorder.sent) == 1


def test_a_postponed_support_end_starts_a_new_schedule(database, eol_settings, recorder):
    fleet = make_fleet(database, eol_settings, customers=1)
    [first] = _schedule(database, eol_settings, DUE_24)
    _send(database, eol_settings, first, DUE_24)
    with database.session() as session:
        from fleetcare.lifecycle.schemas import PlanIn

        service.save_plan(
            session, fleet.product_id, PlanIn(support_end=dt.date(2032, 3, 31)), actor=SETUP
        )
        session.commit()
    # 24 months before the new end is 31 March 2030; nothing before then.
    assert _schedule(database, eol_settings, DUE_24 + dt.timedelta(days=2)) == []
    [second] = _schedule(database, eol_settings, dt.datetime(2030, 3, 31, 8, tzinfo=dt.UTC))
    with database.session() as session:
        notice = session.get(Notice, second)
        assert notice is not None
        assert notice.support_end == dt.date(2032, 3, 31)
        assert notice.months_before == 24


def test_failed_deliveries_are_retried_then_marked_failed(database, eol_settings, monkeypatch):
    settings = eol_settings.model_copy(
        update={"notify_max_attempts": 2, "notify_retry_seconds": 60}
    )
    make_fleet(database, settings, customers=1)

    def refuse(channels, delivery, notice, customer):  # type: ignore[no-untyped-def]
        raise notify.DeliveryFailed("SMTP 127.0.0.1:1: ConnectionRefusedError")

    monkeypatch.setattr(service, "_send", refuse)
    [notice_id] = _schedule(database, settings, DUE_24)
    first = _send(database, settings, notice_id, DUE_24)
    assert (first.retrying, first.retry_in) == (1, 60)
    assert _send(database, settings, notice_id, DUE_24 + dt.timedelta(seconds=30)).retrying == 0
    last = _send(database, settings, notice_id, DUE_24 + dt.timedelta(seconds=61))
    assert last.failed == 1
    with database.session() as session:
        [delivery] = service.list_deliveries(session, notice_id=notice_id)
        notice = session.get(Notice, notice_id)
        assert notice is not None
        assert notice.status == "sent"
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert "ConnectionRefusedError" in delivery.last_error


def test_devices_reported_by_a_registered_source_count_and_override_imports(
    database, eol_settings, recorder
):
    fleet = make_fleet(database, eol_settings, customers=2, devices_each=1)

    def registry(session, product_ids):  # type: ignore[no-untyped-def]
        # c1's device was moved to c2 and decommissioned one; a new device of c2 enrolled.
        yield service.FieldDevice("c1-dev0", fleet.product_id, "c2", active=False)
        yield service.FieldDevice("enrolled-1", fleet.product_id, "c2")

    def unknown_owner(session, product_ids):  # type: ignore[no-untyped-def]
        yield service.FieldDevice("stray-1", fleet.product_id, "not-imported")

    service.register_device_source(registry)
    service.register_device_source(unknown_owner)
    try:
        with database.session() as session:
            assert service.devices_in_field(session, [fleet.product_id]) == {fleet.product_id: 3}
            plan = service.plan_out(session, fleet.product_id, eol_settings)
            assert (plan.customers, plan.devices_without_customer) == (1, 1)
        [notice_id] = _schedule(database, eol_settings, DUE_24)
        _send(database, eol_settings, notice_id, DUE_24)
    finally:
        service.unregister_device_source(registry)
        service.unregister_device_source(unknown_owner)
    assert [ref for ref, _ in recorder.sent] == ["c2"]


def test_support_end_is_recorded_once_with_devices_in_the_field(database, eol_settings):
    fleet = make_fleet(database, eol_settings, customers=2, devices_each=3)
    after = dt.datetime(2031, 4, 1, 1, tzinfo=dt.UTC)
    with database.session() as session:
        assert service.record_support_ends(session, after - dt.timedelta(days=2)) == 0
        assert service.record_support_ends(session, after) == 1
        assert service.record_support_ends(session, after) == 0
        session.commit()
        plan = service.get_plan(session, fleet.product_id)
        assert plan is not None
        assert plan.devices_at_support_end == 6
        from fleetcare.core import events

        [event] = events.since(session, 0, kinds={"lifecycle.support_ended"})
        assert event.payload["devices_in_field"] == 6


def test_the_check_in_notice_and_the_rollout_rule(database, eol_settings):
    fleet = make_fleet(database, eol_settings, customers=1)
    with database.session() as session:
        assert service.device_notice(session, fleet.product_id, on=dt.date(2029, 1, 1)) is None
        ending = service.device_notice(
            session, fleet.product_id, on=dt.date(2030, 6, 1), settings=eol_settings
        )
        ended = service.device_notice(
            session, fleet.product_id, on=dt.date(2031, 4, 1), settings=eol_settings
        )
        assert ending is not None
        assert ending.to_dict()["type"] == "support_ending"
        assert ended is not None
        assert ended.to_dict() == {
            "type": "end_of_support",
            "support_end": "2031-03-31",
            "support_end_month_year": "March 2031",
            "message": "Security support for Thermostat T1 ended in March 2031. This device "
            "receives no more security updates.",
            "successor": None,
            "url": "https://fleet.example/end-of-life/thermostat-t1",
        }
        service.check_rollout_allowed(session, fleet.product_id, "feature", on=dt.date(2031, 3, 31))
        service.check_rollout_allowed(session, fleet.product_id, "security", on=dt.date(2035, 1, 1))
        from fleetcare.core.errors import RuleViolation

        with pytest.raises(RuleViolation, match="feature rollouts stop"):
            service.check_rollout_allowed(
                session, fleet.product_id, "feature", on=dt.date(2031, 4, 1)
            )
        assert service.is_out_of_support(session, fleet.product_id, on=dt.date(2031, 4, 1))


def test_the_texts_speak_the_customers_language_and_respect_offer_preferences():
    content = {
        "kind": "milestone",
        "manufacturer": "Example Devices GmbH",
        "product": "Thermostat T1",
        "model": "T1",
        "support_end": "2031-03-31",
        "months_before": 12,
        "successor": "Thermostat T2",
        "upgrade_path": "",
        "transition_offer": "30 % off",
        "decommissioning": {"factory_reset": "Hold the dial."},
        "after_support": "",
    }
    from fleetcare.lifecycle import texts

    subject, body = texts.notice_text(content, "de", devices=2, link="https://x/l")
    assert (
        subject
        == "Example Devices GmbH: Sicherheitsunterstützung für Thermostat T1 endet im März 2031"
    )
    assert "2 Ihrer Geräte" in body
    assert "Unser Angebot: 30 % off" in body
    subject, body = texts.notice_text(
        content, "fr", devices=1, link="https://x/l", offer=False, late=True, due="2030-03-31"
    )
    assert "ends in March 2031" in subject
    assert "30 % off" not in body
    assert "was due on 2030-03-31" in body
    assert "- Factory reset: Hold the dial." in body
    assert rules.DECOMMISSIONING_STEPS["factory_reset"] == "Factory reset"


def test_check_in_notices_fit_the_updates_packages_providers(database, eol_settings):
    from types import SimpleNamespace

    from fleetcare.core import notify

    fleet = make_fleet(database, eol_settings, customers=0)
    device = SimpleNamespace(product_id=fleet.product_id, uid="dev-1")
    notify.configure(eol_settings)
    try:
        with database.session() as session:
            assert service.check_in_notices(session, device, dt.date(2029, 1, 1)) == []
            [notice] = service.check_in_notices(session, device, dt.date(2031, 4, 1))
    finally:
        notify.configure(None)
    assert notice["type"] == "end_of_support"
    assert notice["url"] == "https://fleet.example/end-of-life/thermostat-t1"


def test_one_sender_per_channel_sends_only_its_channel(database, eol_settings, recorder):
    make_fleet(database, eol_settings, customers=3, channels=("email", "mqtt"))
    [notice_id] = _schedule(database, eol_settings, DUE_24)
    with database.session() as session:
        email = service.send_notice(
            session, notice_id, eol_settings, now=lambda: DUE_24, channel="email"
        )
        notice = session.get(Notice, notice_id)
        assert notice is not None
        assert notice.status == "sending"  # the MQTT deliveries are still to go
        mqtt = service.send_notice(
            session, notice_id, eol_settings, now=lambda: DUE_24, channel="mqtt"
        )
        session.refresh(notice)
        assert notice.status == "sent"
    assert (email.sent, mqtt.sent) == (3, 3)
