"""hawkBit DDI v1: the exchanges of tests/fixtures/ddi/exchanges.json replayed in order, then
the refusals (wrong token, another device's action, a decommissioned device, an aborted rollout).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from fleetcare.updates import ddi, devices, rollouts
from fleetcare.updates.models import Assignment
from fleetcare.updates.schemas import RolloutIn
from tests.updates.conftest import ACTOR, firmware, register

EXCHANGES = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "ddi" / "exchanges.json").read_text()
)


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, str):
        if value == "{size}":
            return int(names["size"])
        for key, text in names.items():
            value = value.replace("{" + key + "}", text)
    return value


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(_matches(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, str) and "{any}" in expected:
        pattern = ".*".join(re.escape(part) for part in expected.split("{any}"))
        return isinstance(actual, str) and re.fullmatch(pattern, actual) is not None
    return bool(expected == actual)


@pytest.fixture
def ddi_device(client, database, settings, fleet):  # type: ignore[no-untyped-def]
    register(database, ["ddi-1", "ddi-2"])
    with database.session() as session:
        rollout = rollouts.create(
            session, RolloutIn(name="ddi", product="gateway", version="2.0.0"), actor=ACTOR
        )
        rollouts.start(session, rollout.id, actor=ACTOR)
        session.commit()
        device = devices.get_device(session, "ddi-1")
        action = session.query(Assignment).filter_by(device_id=device.id).one().id
    return {
        "token": ddi.target_token(settings, "ddi-1"),
        "action": str(action),
        "rollout": rollout.id,
        "module": str(rollout.release_id),
    }


def test_a_ddi_client_polls_downloads_and_reports(client, database, fleet, ddi_device):
    image = firmware("2.0.0")
    names = {
        "controller": "ddi-1",
        "base": "http://testserver/DEFAULT/controller/v1/ddi-1",
        "action": ddi_device["action"],
        "module": ddi_device["module"],
        "sha256": hashlib.sha256(image).hexdigest(),
        "sha1": hashlib.sha1(image, usedforsecurity=False).hexdigest(),
        "md5": hashlib.md5(image, usedforsecurity=False).hexdigest(),
        "size": str(len(image)),
    }
    auth = {"Authorization": f"TargetToken {ddi_device['token']}"}
    for step in EXCHANGES:
        request, expected = step["request"], step["response"]
        response = client.request(
            request["method"],
            _fill(request["path"], names),
            headers={**auth, **request.get("headers", {})},
            json=request.get("body"),
        )
        assert response.status_code == expected["status"], (step["name"], response.text)
        if "body" in expected:
            body = response.json()
            assert _matches(_fill(expected["body"], names), body), (step["name"], body)
        if "body_keys" in expected:
            assert sorted(response.json()) == expected["body_keys"], step["name"]
        if "text" in expected:
            assert response.text == _fill(expected["text"], names), step["name"]
        if expected["status"] == 206:
            assert response.content == image[1000:]
    with database.session() as session:
        device = devices.get_device(session, "ddi-1")
        assert (device.installed_version, device.hardware_revision) == ("2.0.0", "2")
        assert session.get(Assignment, int(ddi_device["action"])).status == "success"


def test_ddi_refusals(client, database, settings, fleet, ddi_device):
    base = "/DEFAULT/controller/v1/ddi-1"
    refused = client.get(base)
    assert refused.status_code == 401
    assert "TargetToken" in refused.json()["error"]
    wrong = {"Authorization": f"TargetToken {ddi.target_token(settings, 'ddi-2')}"}
    assert client.get(base, headers=wrong).status_code == 401
    other = {"Authorization": f"TargetToken {ddi.target_token(settings, 'ddi-2')}"}
    stolen = client.get(
        f"/DEFAULT/controller/v1/ddi-2/deploymentBase/{ddi_device['action']}", headers=other
    )
    assert stolen.status_code == 404
    auth = {"Authorization": f"TargetToken {ddi_device['token']}"}
    assert client.get("/OTHER/controller/v1/ddi-1", headers=auth).status_code == 404
    bad = client.post(
        f"{base}/deploymentBase/{ddi_device['action']}/feedback",
        headers=auth,
        json={"status": {"execution": "exploded", "result": {"finished": "none"}}},
    )
    assert bad.status_code == 422
    with database.session() as session:
        rollouts.abort(session, ddi_device["rollout"], actor=ACTOR)
        session.commit()
    links = client.get(base, headers=auth).json()["_links"]
    assert "deploymentBase" not in links
    cancel = client.get(
        links["cancelAction"]["href"].removeprefix("http://testserver"), headers=auth
    )
    assert cancel.json() == {
        "id": ddi_device["action"],
        "cancelAction": {"stopId": ddi_device["action"]},
    }
    confirmed = client.post(
        f"{base}/cancelAction/{ddi_device['action']}/feedback",
        headers=auth,
        json={"status": {"execution": "closed", "result": {"finished": "success"}}},
    )
    assert confirmed.status_code == 200
    assert "cancelAction" not in client.get(base, headers=auth).json()["_links"]
    with database.session() as session:
        devices.decommission(session, "ddi-1", actor=ACTOR)
        session.commit()
    assert client.get(base, headers=auth).status_code == 403


def test_outside_a_maintenance_window_ddi_says_download_but_skip_the_update(
    client, database, fleet, ddi_device
):
    from sqlalchemy import update

    from fleetcare.updates.models import Rollout

    auth = {"Authorization": f"TargetToken {ddi_device['token']}"}
    base = "/DEFAULT/controller/v1/ddi-1"
    today = dt.datetime.now(dt.UTC).weekday()
    every_day = list(range(7))
    for windows, expected in (
        ([{"days": [(today + 3) % 7], "start": "01:00", "end": "02:00"}], "unavailable"),
        (
            [
                {"days": every_day, "start": "00:00", "end": "12:00"},
                {"days": every_day, "start": "12:00", "end": "00:00"},
            ],
            "available",
        ),
    ):
        with database.session() as session:
            session.execute(
                update(Rollout).where(Rollout.id == ddi_device["rollout"]).values(windows=windows)
            )
            session.commit()
        # The polling base links the action either way (so that the device downloads ahead).
        links = client.get(base, headers=auth).json()["_links"]
        assert "deploymentBase" in links
        deployment = client.get(links["deploymentBase"]["href"], headers=auth).json()["deployment"]
        assert deployment["maintenanceWindow"] == expected
        assert deployment["download"] == "forced"
        assert deployment["update"] == ("skip" if expected == "unavailable" else "forced")
