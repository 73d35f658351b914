"""Notices on every channel, through the real jobs: email to an aiosmtpd server, webhooks to a
receiver that checks the signature, and MQTT through Mosquitto (FLEETCARE_TEST_MQTT_HOST/PORT,
default 127.0.0.1:1883; skipped with one line without a broker, failed under CI=true)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time

import pytest

from fleetcare.lifecycle import service, tasks
from tests.conftest import IN_CI
from tests.lifecycle.conftest import make_fleet
from tests.notify_support import WebhookReceiver, jobs, running_smtp

MQTT_HOST = os.environ.get("FLEETCARE_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("FLEETCARE_TEST_MQTT_PORT", "1883"))


@pytest.fixture(scope="module")
def smtp():
    yield from running_smtp()


@pytest.fixture
def mail(smtp):
    smtp.clear()
    return smtp


@pytest.fixture
def channel_settings(eol_settings, smtp):
    return eol_settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "smtp_from": "lifecycle@fleetcare.test",
            "notify_max_attempts": 3,
            "notify_retry_seconds": 0.01,
        }
    )


@pytest.fixture
def receiver():
    hook = WebhookReceiver()
    yield hook
    hook.stop()


def _due_now(database, support_end_months: int = 6) -> None:
    """Shift the product's support end so that its 6-month milestone fell due an hour ago."""
    from fleetcare.lifecycle.schemas import PlanIn
    from fleetcare.portfolio.rules import add_months
    from tests.lifecycle.conftest import SETUP

    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    with database.session() as session:
        [plan] = list(service.plans_by_product(session).values())
        service.save_plan(
            session,
            plan.product_id,
            PlanIn(
                milestones=[support_end_months],
                send_hour=0,
                support_end=add_months(now.date(), support_end_months),
                transition_offer="30 % off a T2.",
                decommissioning={"factory_reset": "Hold the dial for 10 seconds."},
            ),
            actor=SETUP,
        )
        session.commit()


def test_email_notices_reach_every_customer_in_their_language(database, channel_settings, mail):
    make_fleet(database, channel_settings, customers=3, devices_each=2, channels=("email",))
    _due_now(database)
    with jobs(channel_settings, database):
        assert tasks.schedule_eol_notices.call_local() == 1
    assert sorted(m["To"] for m in mail.messages) == [
        "owner1@example.test",
        "owner2@example.test",
        "owner3@example.test",
    ]
    [german] = mail.to("owner2@example.test")
    assert "Sicherheitsunterstützung für Thermostat T1 endet im" in german["Subject"]
    assert german["X-Fleetcare-Event"] == "eol.notice"
    # One id per delivery, so that a copy sent again after a crash can be recognised.
    assert german["Message-ID"].startswith("<eol-")
    assert len({m["Message-ID"] for m in mail.messages}) == 3
    [english] = mail.to("owner1@example.test")
    body = english.get_content()
    assert "Our records show 2 of your devices affected." in body
    assert "Our offer: 30 % off a T2." in body
    assert "- Factory reset: Hold the dial for 10 seconds." in body
    assert "https://fleet.example/end-of-life/read/" in body
    # Customer 3 declined offers.
    assert "30 % off" not in mail.to("owner3@example.test")[0].get_content()
    with database.session() as session:
        deliveries = service.list_deliveries(session)
    assert {d.status for d in deliveries} == {"sent"}
    # Running the job again sends nothing more.
    with jobs(channel_settings, database):
        assert tasks.schedule_eol_notices.call_local() == 0
        assert tasks.resume_eol_notices.call_local() == 0
    assert len(mail.messages) == 3


def test_signed_webhooks_are_verified_by_the_receiver_and_retried(
    database, channel_settings, receiver
):
    fleet = make_fleet(
        database,
        channel_settings,
        customers=2,
        devices_each=3,
        channels=("webhook",),
        webhook_url=receiver.url,
    )
    # Both customers share the receiver here; each has its own secret, so it checks c1's
    # signature and refuses c2's calls (a careful receiver answers 401 to what it cannot verify).
    receiver.secret = fleet.secrets["c1"]
    receiver.statuses = [503]  # the first call fails once and is retried
    _due_now(database)
    with jobs(channel_settings, database):
        tasks.schedule_eol_notices()
        for _ in range(5):
            time.sleep(0.1)  # the retry delays of this test are hundredths of a second
            tasks.resume_eol_notices()
    verified = [c for c in receiver.calls if c.signature_ok]
    refused = [c for c in receiver.calls if not c.signature_ok]
    assert verified, "no call carried c1's valid signature"
    assert {c.json["customer"] for c in verified} == {"c1"}
    assert {c.json["customer"] for c in refused} == {"c2"}
    call = verified[-1]
    assert call.headers["x-fleetcare-event"] == "eol.notice"
    assert call.json["event"] == "eol.notice"
    assert call.json["devices"] == 3
    assert call.json["product"] == "Thermostat T1"
    assert call.json["delivery"] == call.headers["x-fleetcare-delivery"]
    with database.session() as session:
        by_customer = {d.customer: d for d in service.list_deliveries(session)}
    assert by_customer["c1"].status == "sent"
    assert by_customer["c1"].attempts == 2  # 503 first, then accepted
    assert by_customer["c2"].status == "failed"
    assert "HTTP 401" in by_customer["c2"].last_error


def _broker_or_skip() -> None:
    try:
        with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=1):
            return
    except OSError:
        message = f"no MQTT broker at {MQTT_HOST}:{MQTT_PORT} (set FLEETCARE_TEST_MQTT_HOST/PORT)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def test_mqtt_notices_are_published_retained_to_the_customers_topic(database, channel_settings):
    _broker_or_skip()
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    topic_root = f"fleetcare-test/{os.getpid()}-{threading.get_ident()}"
    settings = channel_settings.model_copy(update={"mqtt_url": f"mqtt://{MQTT_HOST}:{MQTT_PORT}"})
    make_fleet(database, settings, customers=2, devices_each=1, channels=("mqtt",))
    from fleetcare.lifecycle.schemas import CustomerIn
    from tests.lifecycle.conftest import SETUP

    with database.session() as session:
        for ref in ("c1", "c2"):
            customer = service.get_customer(session, ref)
            service.save_customer(
                session,
                CustomerIn(
                    ref=ref,
                    name=customer.name,
                    channels=["mqtt"],
                    mqtt_topic=f"{topic_root}/{ref}/eol",
                ),
                actor=SETUP,
                settings=settings,
            )
        session.commit()
    _due_now(database)
    with jobs(settings, database):
        tasks.schedule_eol_notices()
    # A subscriber that connects afterwards still gets the notice: it is retained.
    received: dict[str, dict[str, object]] = {}
    done = threading.Event()

    def on_message(client, userdata, message):  # type: ignore[no-untyped-def]
        if message.payload:
            received[message.topic] = json.loads(message.payload)
        if len(received) == 2:
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = on_message
    client.connect(MQTT_HOST, MQTT_PORT)
    client.subscribe(f"{topic_root}/+/eol", qos=1)
    client.loop_start()
    try:
        assert done.wait(5), f"got only {sorted(received)}"
    finally:
        for ref in ("c1", "c2"):  # clear the retained messages again
            client.publish(f"{topic_root}/{ref}/eol", b"", qos=1, retain=True).wait_for_publish(2)
        client.loop_stop()
        client.disconnect()
    assert received[f"{topic_root}/c1/eol"]["customer"] == "c1"
    assert received[f"{topic_root}/c2/eol"]["event"] == "eol.notice"
    with database.session() as session:
        assert {d.status for d in service.list_deliveries(session)} == {"sent"}


def test_mqtt_without_a_broker_configured_is_skipped_not_retried(database, channel_settings):
    make_fleet(database, channel_settings, customers=1, channels=("mqtt",))
    _due_now(database)
    with jobs(channel_settings.model_copy(update={"mqtt_url": ""}), database):
        tasks.schedule_eol_notices()
    with database.session() as session:
        [delivery] = service.list_deliveries(session)
    assert delivery.status == "skipped"
    assert "FLEETCARE_MQTT_URL" in delivery.last_error
