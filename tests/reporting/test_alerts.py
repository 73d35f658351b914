"""Deadline alerts: at each lead time and when a deadline is missed, once each, by email to the
security team and by signed webhook, sent by the background job."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetcare.core import notify
from fleetcare.core.auth import system_principal
from fleetcare.reporting import service, tasks
from fleetcare.reporting.schemas import CaseIn, SubmitIn
from tests.notify_support import WebhookReceiver
from tests.reporting.conftest import case_fields

PSIRT = system_principal("psirt@example.test", via="cli")


@pytest.fixture
def receiver(database, settings):
    hook = WebhookReceiver()
    with database.session() as session:
        _endpoint, hook.secret = notify.create_webhook(
            session, name="pager", url=hook.url, events=["case.deadline"], actor=PSIRT,
            settings=settings)
        session.commit()
    yield hook
    hook.stop()


def open_case(database, settings, aware_at, **changes):  # type: ignore[no-untyped-def]
    with database.session() as session:
        case, _ = service.open_case(
            session, CaseIn.model_validate(case_fields(aware_at=aware_at, **changes)),
            actor=PSIRT, settings=settings)
        session.commit()
        return case.id, case.reference


def run_alerts(database, settings, now):  # type: ignore[no-untyped-def]
    with database.session() as session:
        deliveries = service.deadline_alerts(session, settings, now)
        session.commit()
        ids = [d.id for d in deliveries]
    notify.dispatch(ids)
    return ids


def test_alerts_at_each_lead_time_and_when_overdue_once_each(
    database, settings, tokens, gateway, mail, receiver, wired
):
    aware = dt.datetime(2026, 3, 28, 10, 0, tzinfo=dt.UTC)
    _case_id, ref = open_case(database, settings, aware)
    early_warning_due = aware + dt.timedelta(hours=24)
    mail.clear()

    assert run_alerts(database, settings, early_warning_due - dt.timedelta(hours=13)) == []
    assert len(run_alerts(database, settings, early_warning_due - dt.timedelta(hours=3))) == 2
    assert run_alerts(database, settings, early_warning_due - dt.timedelta(hours=2)) == []  # sent
    assert len(run_alerts(database, settings, early_warning_due - dt.timedelta(minutes=30))) == 2
    assert len(run_alerts(database, settings, early_warning_due + dt.timedelta(minutes=1))) == 2
    assert run_alerts(database, settings, early_warning_due + dt.timedelta(hours=5)) == []
    assert len(run_alerts(database, settings, early_warning_due + dt.timedelta(hours=25))) == 2

    subjects = [m["Subject"] for m in mail.to("security@example.test")]
    assert subjects == [
        f"[{ref}] early warning due in 3 h 0 min",
        f"[{ref}] early warning due in 30 min",
        f"[{ref}] early warning OVERDUE 1 min ago",
        f"[{ref}] early warning OVERDUE 1 day 1 h ago",
    ]
    first = mail.to("security@example.test")[0].get_content()
    assert "due   2026-03-29 10:00 UTC (2026-03-29 12:00 CEST)" in first
    assert "rule  awareness + 24 hours (CRA Art. 14)" in first
    assert f"https://psirt.example.com/cases/{ref}" in first
    assert [c.json["data"]["step"] for c in receiver.calls] == [
        "lead-4h", "lead-1h", "overdue-0", "overdue-1"]
    assert all(c.signature_ok for c in receiver.calls)
    assert receiver.calls[0].json["data"]["document"] == "early_warning"


def test_a_submitted_stage_raises_no_more_alerts(database, settings, tokens, gateway, mail,
                                                 wired):
    aware = dt.datetime.now(dt.UTC) - dt.timedelta(hours=23)
    case_id, _ref = open_case(database, settings, aware)
    with database.session() as session:
        case = service.get_case(session, str(case_id))
        service.save_document(session, case, "early_warning", {"suspected_malicious": "no"},
                              actor=PSIRT)
        service.submit_document(session, case, "early_warning", SubmitIn(reference="SRP-9"),
                                actor=PSIRT, settings=settings)
        session.commit()
    mail.clear()
    assert run_alerts(database, settings, dt.datetime.now(dt.UTC)) == []
    assert mail.messages == []


def test_the_job_sends_the_alerts_owed_now(database, settings, tokens, gateway, mail, wired):
    _case_id, ref = open_case(database, settings, dt.datetime.now(dt.UTC) - dt.timedelta(hours=30))
    mail.clear()

    assert tasks.alert_article14_deadlines.call_local() == 1  # one security user
    assert tasks.alert_article14_deadlines.call_local() == 0

    [alert] = mail.to("security@example.test")
    assert alert["Subject"].startswith(f"[{ref}] early warning OVERDUE")


def test_a_small_enterprise_is_reminded_of_article_64_10(database, settings, tokens, gateway,
                                                         mail, wired):
    small = settings.model_copy(update={"manufacturer_size": "micro"})
    aware = dt.datetime.now(dt.UTC) - dt.timedelta(hours=23)
    open_case(database, small, aware)
    mail.clear()
    run_alerts(database, small, dt.datetime.now(dt.UTC))
    [alert] = mail.to("security@example.test")
    assert "not fined for missing the 24-hour early warning deadline (Art. 64(10))" in (
        alert.get_content())


def test_alerts_go_to_the_configured_addresses(database, settings, gateway, mail, wired):
    chosen = settings.model_copy(update={"reporting_alert_emails": ["oncall@psirt.example"]})
    open_case(database, chosen, dt.datetime.now(dt.UTC) - dt.timedelta(hours=30))
    mail.clear()
    run_alerts(database, chosen, dt.datetime.now(dt.UTC))
    assert [m["To"] for m in mail.messages] == ["oncall@psirt.example"]


def test_proposals_run_from_the_job(database, settings, exploited_world, tokens, mail, wired):
    assert tasks.propose_article14_cases.call_local() == 2
    assert tasks.propose_article14_cases.call_local() == 0
    assert sum("Article 14 case proposed" in m["Subject"] for m in mail.messages) == 2
