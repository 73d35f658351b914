"""MQTT push to fleetcare/<device>/update, against a real broker (Mosquitto in CI)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest

from fleetcare.core.auth import Role
from fleetcare.updates import push
from tests.conftest import IN_CI
from tests.updates.conftest import register

HOST = os.environ.get("FLEETCARE_TEST_MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("FLEETCARE_TEST_MQTT_PORT", "1883"))


def _broker() -> None:
    try:
        socket.create_connection((HOST, PORT), timeout=1).close()
    except OSError:
        if IN_CI:
            pytest.fail(f"CI=true but no MQTT broker at {HOST}:{PORT}")
        pytest.skip(f"no MQTT broker at {HOST}:{PORT} (set FLEETCARE_TEST_MQTT_HOST/PORT)")


def _subscriber(received: list[tuple[str, dict[str, object]]], ready: threading.Event):  # type: ignore[no-untyped-def]
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{os.getpid()}")
    client.on_subscribe = lambda *args: ready.set()
    client.on_message = lambda c, u, m: received.append((m.topic, json.loads(m.payload)))
    client.connect(HOST, PORT)
    client.subscribe("fleetcare/+/update", qos=1)
    client.loop_start()
    return client


def test_starting_a_rollout_pushes_to_the_devices_of_the_open_wave(
    app, client, database, fleet, tokens
):
    _broker()
    app.state.settings.mqtt_url = f"mqtt://{HOST}:{PORT}"
    register(database, ["push-canary-1", "push-canary-2"], groups=["canary"])
    register(database, ["push-field-1"])
    received: list[tuple[str, dict[str, object]]] = []
    ready = threading.Event()
    subscriber = _subscriber(received, ready)
    try:
        assert ready.wait(5)
        created = client.post(
            "/api/v1/rollouts",
            headers=tokens.headers(Role.RELEASE),
            json={
                "name": "push",
                "product": "gateway",
                "version": "2.0.0",
                "waves": [{"groups": ["canary"]}, {"percent": 100}],
            },
        )
        assert created.status_code == 201, created.text
        started = client.post(
            f"/api/v1/rollouts/{created.json()['id']}/start", headers=tokens.headers(Role.RELEASE)
        )
        assert started.status_code == 200
        deadline = time.monotonic() + 5
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # a message to the second wave would arrive by now
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    assert sorted(t for t, _ in received) == [
        "fleetcare/push-canary-1/update",
        "fleetcare/push-canary-2/update",
    ]
    assert received[0][1] == {"reason": "assignment", "rollout": created.json()["id"]}


def test_without_a_reachable_broker_nothing_breaks(settings):
    settings.mqtt_url = "mqtt://127.0.0.1:9"  # nothing listens on the discard port
    assert push.publish(settings, ["dev-1"], {"reason": "assignment"}) == 0
    settings.mqtt_url = ""
    assert push.publish(settings, ["dev-1"], {"reason": "assignment"}) == 0
