"""Optional MQTT push: tell devices with a new assignment to check in now.

When a rollout starts, resumes, or opens its next wave, each device with a pending assignment
in an open wave gets a message on `fleetcare/<device>/update` (QoS 1). The message only says
"check in"; what to install still comes from the signed check-in and TUF, so a broker needs no
trust. Without `FLEETCARE_MQTT_URL` nothing is sent, and a broker that cannot be reached is
logged and otherwise ignored: devices still poll.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetcare.core.settings import Settings
from fleetcare.updates.models import Assignment, Device, Rollout

log = logging.getLogger("fleetcare.updates.push")


def topic(device_uid: str) -> str:
    return f"fleetcare/{device_uid}/update"


def devices_to_notify(session: Session, rollout_id: int) -> list[str]:
    rows = session.execute(
        select(Device.uid)
        .join(Assignment, Assignment.device_id == Device.id)
        .join(Rollout, Rollout.id == Assignment.rollout_id)
        .where(
            Rollout.id == rollout_id,
            Rollout.status == "running",
            Assignment.status == "pending",
            Assignment.wave <= Rollout.current_wave,
        )
        .order_by(Device.uid)
    )
    return list(rows.scalars())


def publish(settings: Settings, uids: list[str], payload: dict[str, object]) -> int:
    """Publish `payload` to each device's topic; returns how many were sent (0 without broker)."""
    if not settings.mqtt_url or not uids:
        return 0
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    url = urlsplit(settings.mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fleetcare-server")
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.scheme == "mqtts":
        client.tls_set()
    try:
        client.connect(url.hostname or "127.0.0.1", url.port or 1883, keepalive=30)
    except OSError as exc:
        log.warning("MQTT broker %s unreachable (%s); devices will poll", url.hostname, exc)
        return 0
    client.loop_start()
    try:
        body = json.dumps(payload)
        infos = [client.publish(topic(uid), body, qos=1) for uid in uids]
        for info in infos:
            info.wait_for_publish(timeout=10)
        return sum(1 for info in infos if info.is_published())
    finally:
        client.loop_stop()
        client.disconnect()


def notify_rollout(session: Session, settings: Settings, rollout_id: int) -> int:
    """Push to every device the rollout has an open, pending assignment for."""
    if not settings.mqtt_url:
        return 0
    return publish(
        settings,
        devices_to_notify(session, rollout_id),
        {"reason": "assignment", "rollout": rollout_id},
    )
