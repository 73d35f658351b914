"""The operator API of updates: upload, sign, TUF status, devices, settings, rollouts."""

from __future__ import annotations

import datetime as dt
import hashlib

from fleetcare.core.auth import Role
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ReleaseIn
from tests.updates.conftest import ACTOR

RELEASE = Role.RELEASE


def test_upload_sign_and_ship_through_the_api(client, database, fleet, tokens):
    with database.session() as session:
        portfolio.create_release(
            session,
            "gateway",
            ReleaseIn(version="3.0.0", release_date=dt.date(2026, 3, 1), kind="security"),
            actor=ACTOR,
        )
        session.commit()
    auth = tokens.headers(RELEASE)
    url = "/api/v1/products/gateway/releases/3.0.0"
    image = b"\x00firmware 3.0.0" * 4096
    uploaded = client.post(f"{url}/artifacts?filename=image.bin", content=image, headers=auth)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["sha256"] == hashlib.sha256(image).hexdigest()
    assert (
        client.post(f"{url}/artifacts?filename=image.bin", content=b"x", headers=auth).status_code
        == 409
    )
    assert (
        client.post(f"{url}/artifacts?filename=a/b", content=b"x", headers=auth).status_code == 422
    )
    viewer = tokens.headers(Role.VIEWER)
    assert client.post(f"{url}/sign", headers=viewer).status_code == 403
    signed = client.post(f"{url}/sign", headers=auth)
    assert signed.json()["release_counter"] == 3
    assert client.get(f"{url}/artifacts", headers=viewer).json()[0]["size"] == len(image)
    roles = {r["role"]: r["version"] for r in client.get("/api/v1/tuf", headers=viewer).json()}
    assert roles[f"product-{fleet.product_id}"] == 3

    imported = client.post(
        "/api/v1/devices",
        headers=auth,
        json={
            "product": "gateway",
            "devices": [
                {"uid": "gw-1", "secret": "a-long-factory-secret", "customer": "ACME"},
                {"uid": "gw-2", "public_key": "ab" * 32},
            ],
        },
    )
    assert imported.json() == {"imported": 2}
    again = client.post(
        "/api/v1/devices",
        headers=auth,
        json={
            "product": "gateway",
            "devices": [{"uid": "gw-1", "secret": "a-long-factory-secret"}],
        },
    )
    assert again.status_code == 409
    both = client.post(
        "/api/v1/devices",
        headers=auth,
        json={
            "product": "gateway",
            "devices": [
                {"uid": "gw-3", "secret": "a-long-factory-secret", "public_key": "ab" * 32}
            ],
        },
    )
    assert both.status_code == 422
    listed = client.get("/api/v1/devices?product=gateway", headers=viewer).json()
    assert [d["uid"] for d in listed] == ["gw-1", "gw-2"]
    assert "secret" not in str(listed)
    assert "public_key" not in listed[0]

    later = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    postponed = client.put(
        "/api/v1/devices/gw-1/update-settings", headers=auth, json={"postponed_until": later}
    )
    assert postponed.json()["postponed_until"] == later
    customer = client.put(
        "/api/v1/customers/ACME/update-settings", headers=auth, json={"security_updates": "opt_out"}
    )
    assert customer.json()["security_updates"] == "opt_out"

    rollout = client.post(
        "/api/v1/rollouts",
        headers=auth,
        json={
            "name": "3.0.0",
            "product": "gateway",
            "version": "3.0.0",
            "waves": [{"percent": 50}, {"percent": 100}],
            "windows": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}],
        },
    )
    assert rollout.status_code == 201, rollout.text
    rollout_id = rollout.json()["id"]
    started = client.post(f"/api/v1/rollouts/{rollout_id}/start", headers=auth).json()
    assert started["status"] == "running"
    assert sum(w["size"] for w in started["waves"]) == 2
    assert client.post(f"/api/v1/rollouts/{rollout_id}/launch", headers=auth).status_code == 422
    paused = client.post(f"/api/v1/rollouts/{rollout_id}/pause", headers=auth).json()
    assert paused["status"] == "paused"
    fleet_view = client.get("/api/v1/fleet/releases", headers=viewer)
    assert fleet_view.status_code == 200
    decommissioned = client.post("/api/v1/devices/gw-2/decommission", headers=auth).json()
    assert decommissioned["state"] == "decommissioned"


def test_bad_rollout_input_is_refused_with_a_clear_error(client, database, fleet, tokens):
    auth = tokens.headers(RELEASE)
    bad_window = client.post(
        "/api/v1/rollouts",
        headers=auth,
        json={
            "name": "x",
            "product": "gateway",
            "version": "2.0.0",
            "windows": [{"start": "25:00", "end": "01:00"}],
        },
    )
    assert bad_window.status_code == 422
    assert "windows.0.start" in bad_window.json()["error"]
    unknown = client.post(
        "/api/v1/rollouts",
        headers=auth,
        json={"name": "x", "product": "gateway", "version": "9.9.9"},
    )
    assert unknown.status_code == 404
    assert "no release '9.9.9'" in unknown.json()["error"]
