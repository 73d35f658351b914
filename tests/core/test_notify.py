"""Email and signed webhooks, delivered by jobs to real receivers on 127.0.0.1, with retries."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select, text, update

from fleetcare.core import notify
from fleetcare.core.auth import Role, system_principal
from fleetcare.core.db import utcnow
from fleetcare.core.jobs import huey, set_task_database
from fleetcare.core.notify_models import Delivery, WebhookEndpoint
from tests.notify_support import WebhookReceiver, free_port, jobs, running_smtp

ADMIN = system_principal("tests", via="cli")


@pytest.fixture(scope="module")
def smtp():
    yield from running_smtp()


@pytest.fixture
def mail(smtp):
    smtp.clear()
    return smtp


@pytest.fixture
def settings(settings, smtp):
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "smtp_from": "psirt@fleetcare.test",
            "notify_max_attempts": 3,
            "notify_retry_seconds": 0.2,
        }
    )


@pytest.fixture
def wired(settings, database):
    with jobs(settings, database):
        yield


@pytest.fixture
def receiver():
    hook = WebhookReceiver()
    yield hook
    hook.stop()


def add_webhook(database, receiver, events=("*",), settings=None):
    with database.session() as session:
        endpoint, secret = notify.create_webhook(
            session, name="ops", url=receiver.url, events=list(events), actor=ADMIN,
            settings=settings,
        )
        session.commit()
    receiver.secret = secret
    return endpoint.id


def delivery(database, delivery_id) -> Delivery:
    with database.session() as session:
        found = session.get(Delivery, delivery_id)
        assert found is not None
        return found


def test_an_email_reaches_the_smtp_server_and_is_recorded_as_sent(database, mail, wired):
    with database.session() as session:
        queued = notify.queue_email(
            session, to="PSIRT@Example.test", subject="Early warning due\nBcc: evil@x",
            body="Due in 4 h.\n", event="case.deadline", object_type="case", object_id=7,
        )
        session.commit()
    notify.dispatch(queued)

    assert len(mail.messages) == 1
    message = mail.messages[0]
    assert message["To"] == "psirt@example.test"
    assert message["From"] == "psirt@fleetcare.test"
    assert message["Subject"] == "Early warning due Bcc: evil@x"  # one line: no header injection
    assert message["Bcc"] is None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Fleetcare-Event"] == "case.deadline"
    assert message.get_content().replace("\r\n", "\n") == "Due in 4 h.\n"
    assert mail.envelopes == [("psirt@fleetcare.test", ["psirt@example.test"])]
    sent = delivery(database, queued[0].id)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "")
    assert sent.sent_at is not None


def test_a_secret_link_is_removed_from_the_record_once_delivered(database, mail, wired):
    with database.session() as session:
        queued = notify.queue_email(session, to="r@example.test", subject="Your link",
                                    body="https://x/status?token=SECRET", event="report.received",
                                    sensitive=True)
        session.commit()
    notify.dispatch(queued)
    assert "SECRET" in mail.messages[0].get_content()
    assert "SECRET" not in delivery(database, queued[0].id).content


def test_without_an_smtp_server_email_is_skipped_not_retried(database, settings, mail):
    with jobs(settings.model_copy(update={"smtp_host": ""}), database):
        with database.session() as session:
            queued = notify.queue_email(session, to="a@example.test", subject="s", body="b",
                                        event="x")
            session.commit()
        notify.dispatch(queued)
    skipped = delivery(database, queued[0].id)
    assert skipped.status == "skipped"
    assert "FLEETCARE_SMTP_HOST" in skipped.last_error
    assert mail.messages == []


def test_an_unreachable_smtp_server_is_retried_then_given_up(database, settings):
    down = settings.model_copy(update={"smtp_port": free_port()})
    with database.session() as session:
        queued = notify.queue_email(session, to="a@example.test", subject="s", body="b",
                                    event="x")
        session.commit()
        delivery_id = queued[0].id
    outcomes = []
    with database.session() as session:
        for _ in range(3):
            session.execute(update(Delivery).where(Delivery.id == delivery_id)
                            .values(next_attempt_at=utcnow()))
            session.commit()
            outcomes.append(notify.attempt(session, delivery_id, down))
    assert [o.status for o in outcomes] == ["pending", "pending", "failed"]
    assert outcomes[0].retry_in == pytest.approx(0.2)
    assert outcomes[1].retry_in == pytest.approx(0.4)  # doubling
    failed = delivery(database, delivery_id)
    assert failed.attempts == 3
    assert "SMTP 127.0.0.1" in failed.last_error


def test_a_delivery_is_sent_once_however_often_its_job_runs(database, mail, wired):
    with database.session() as session:
        queued = notify.queue_email(session, to="a@example.test", subject="s", body="b",
                                    event="x")
        session.commit()
    notify.dispatch(queued)
    notify.dispatch(queued)  # a duplicate job, or the sweep, running again
    with database.session() as session:
        assert notify.attempt(session, queued[0].id).status == "sent"
    assert len(mail.messages) == 1


def test_a_dedupe_key_queues_once(database):
    with database.session() as session:
        first = notify.queue_email(session, to="a@example.test", subject="s", body="b",
                                   event="x", dedupe_key="case:1:ew:lead-4h:a@example.test")
        again = notify.queue_email(session, to="a@example.test", subject="s", body="b",
                                   event="x", dedupe_key="case:1:ew:lead-4h:a@example.test")
        session.commit()
        assert len(first) == 1
        assert again == []
        assert session.execute(select(Delivery)).scalars().all() == first


def test_a_webhook_call_is_signed_and_the_receiver_verifies_it(database, settings, receiver,
                                                               wired):
    webhook_id = add_webhook(database, receiver, events=["case.*"], settings=settings)
    with database.session() as session:
        queued = notify.queue_webhooks(session, event="case.deadline",
                                       data={"reference": "A14-2026-0001", "due": "x"},
                                       object_type="case", object_id=1)
        other = notify.queue_webhooks(session, event="report.received", data={})
        session.commit()
    assert other == []  # not subscribed
    notify.dispatch(queued)

    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    assert call.signature_ok
    assert call.path == "/hooks/fleetcare"
    assert call.headers["x-fleetcare-event"] == "case.deadline"
    assert call.headers["x-fleetcare-delivery"] == str(queued[0].id)
    assert call.headers["content-type"] == "application/json"
    assert call.json["event"] == "case.deadline"
    assert call.json["delivery"] == queued[0].id
    assert call.json["data"] == {"reference": "A14-2026-0001", "due": "x"}
    sent = delivery(database, queued[0].id)
    assert (sent.status, sent.webhook_id) == ("sent", webhook_id)


def test_a_forged_or_replayed_call_fails_verification(settings, receiver):
    body = b'{"event":"x"}'
    now = int(time.time())
    good = notify.sign("whsec_right", now, body)
    assert notify.verify_signature("whsec_right", str(now), body, good)
    assert not notify.verify_signature("whsec_wrong", str(now), body, good)
    assert not notify.verify_signature("whsec_right", str(now), body + b" ", good)
    assert not notify.verify_signature("whsec_right", str(now - 3600), body,
                                       notify.sign("whsec_right", now - 3600, body))
    assert not notify.verify_signature("whsec_right", "not-a-number", body, good)


def test_the_signing_secret_is_stored_encrypted_and_shown_once(database, settings, receiver):
    add_webhook(database, receiver, settings=settings)
    with database.session() as session:
        stored = session.execute(text("SELECT secret_encrypted FROM webhook_endpoints")).scalar()
    assert receiver.secret.startswith("whsec_")
    assert receiver.secret not in stored
    assert receiver.secret[6:] not in stored


def test_a_changed_server_key_makes_the_call_fail_with_a_clear_reason(database, settings,
                                                                      receiver):
    add_webhook(database, receiver, settings=settings)
    rotated = settings.model_copy(update={"secret_key": "another-key", "notify_max_attempts": 1})
    with database.session() as session:
        queued = notify.queue_webhooks(session, event="x", data={})
        session.commit()
        outcome = notify.attempt(session, queued[0].id, rotated)
    assert outcome.status == "failed"
    assert "secret key changed" in outcome.error
    assert receiver.calls == []


def test_a_failing_receiver_is_retried_by_the_job_queue_until_it_answers(
    database, settings, receiver, tmp_path
):
    """A real huey consumer (SQLite queue): the first call gets 500, the retry goes through."""
    from fleetcare.core.settings import Settings

    add_webhook(database, receiver, settings=settings)
    receiver.statuses = [500]
    queue_settings = Settings(data_dir=tmp_path, jobs_backend="sqlite")
    previous = huey._huey
    instance = huey.configure(queue_settings)
    set_task_database(database)
    notify.configure(settings)
    consumer = instance.create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        with database.session() as session:
            queued = notify.queue_webhooks(session, event="case.deadline", data={"n": 1})
            session.commit()
        notify.dispatch(queued)
        deadline = time.monotonic() + 20
        while delivery(database, queued[0].id).status != "sent":
            assert time.monotonic() < deadline, delivery(database, queued[0].id).last_error
            time.sleep(0.05)
    finally:
        consumer.stop(graceful=True)
        notify.configure(None)
        set_task_database(None)
        huey._huey = previous
    done = delivery(database, queued[0].id)
    assert done.attempts == 2
    assert [c.signature_ok for c in receiver.calls] == [True, True]
    assert receiver.calls[0].headers["x-fleetcare-delivery"] == str(queued[0].id)


def test_the_sweep_queues_deliveries_whose_job_was_lost(database, mail, wired):
    with database.session() as session:
        queued = notify.queue_email(session, to="a@example.test", subject="lost", body="b",
                                    event="x")
        session.commit()
        # Never dispatched (the process died after the commit); now past the grace period.
        session.execute(update(Delivery).values(
            next_attempt_at=utcnow() - dt.timedelta(seconds=notify.SWEEP_GRACE_SECONDS + 1)))
        session.commit()
        assert notify.due_for_sweep(session) == [queued[0].id]
    assert notify.retry_notifications.call_local() == 1
    assert [m["Subject"] for m in mail.messages] == ["lost"]
    with database.session() as session:
        assert notify.due_for_sweep(session) == []


def test_a_removed_webhook_is_not_called(database, settings, receiver, wired):
    webhook_id = add_webhook(database, receiver, settings=settings)
    with database.session() as session:
        queued = notify.queue_webhooks(session, event="x", data={})
        notify.remove_webhook(session, webhook_id, actor=ADMIN)
        session.commit()
    notify.dispatch(queued)
    assert receiver.calls == []
    assert delivery(database, queued[0].id).status == "skipped"


def test_webhook_urls_must_be_http_without_credentials(database):
    from fleetcare.core.errors import InvalidInput

    with database.session() as session:
        for url in ("ftp://x.example/h", "file:///etc/passwd", "https://user:pw@x.example/h",
                    "not a url"):
            with pytest.raises(InvalidInput):
                notify.create_webhook(session, name="x", url=url, events=["*"], actor=ADMIN)


def test_webhooks_api_shows_the_secret_once_and_only_to_admins(client, tokens, receiver):
    created = client.post("/api/v1/webhooks", headers=tokens.headers(Role.ADMIN),
                          json={"name": "chatops", "url": receiver.url, "events": ["case.*"]})
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    listed = client.get("/api/v1/webhooks", headers=tokens.headers(Role.ADMIN)).json()
    assert listed[0]["name"] == "chatops"
    assert "secret" not in listed[0]
    assert client.get("/api/v1/webhooks",
                      headers=tokens.headers(Role.SECURITY)).status_code == 403
    bad = client.post("/api/v1/webhooks", headers=tokens.headers(Role.ADMIN),
                      json={"name": "x", "url": "gopher://x"})
    assert bad.status_code == 422
    assert "http or https" in bad.json()["error"]
    assert client.delete(f"/api/v1/webhooks/{listed[0]['id']}",
                         headers=tokens.headers(Role.ADMIN)).status_code == 204
    assert client.get("/api/v1/webhooks", headers=tokens.headers(Role.ADMIN)).json() == []


def test_deliveries_api_for_the_security_team(client, tokens, database, wired, mail):
    with database.session() as session:
        notify.queue_email(session, to="a@example.test", subject="s", body="b",
                           event="case.deadline", object_type="case", object_id=3)
        session.commit()
    rows = client.get("/api/v1/deliveries", params={"object_type": "case", "object_id": "3"},
                      headers=tokens.headers(Role.SECURITY)).json()
    assert [(r["event"], r["status"]) for r in rows] == [("case.deadline", "pending")]
    assert client.get("/api/v1/deliveries", headers=tokens.headers(Role.VIEWER)).status_code == 403


def test_endpoint_rows_hold_no_clear_secret_column():
    assert "secret" not in {c.name for c in WebhookEndpoint.__table__.columns}
