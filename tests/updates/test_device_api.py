"""The device API: enrolment, signed requests, replay refusal, check-in, status, downloads."""

from __future__ import annotations

import hashlib

from fleetcare.updates.agent import DeviceClient, DeviceIdentity
from tests.updates.conftest import SECRET, enrolled, firmware, register


def test_enrolment_takes_the_factory_secret_once(client, database, fleet, tmp_path):
    register(database, ["dev-1"])
    identity = DeviceIdentity.load_or_create(tmp_path / "d1", "dev-1")
    device = DeviceClient(client, identity)
    wrong = DeviceClient(client, DeviceIdentity("dev-1", identity.private_key))
    assert wrong.enrol("wrong-secret-0123456789").status_code == 401
    assert device.enrol(SECRET).status_code == 200
    again = device.enrol(SECRET)
    assert again.status_code == 401
    assert "already used" in again.json()["error"]
    assert device.checkin().status_code == 200


def test_unsigned_forged_and_replayed_requests_are_refused(client, database, fleet, tmp_path):
    register(database, ["dev-1", "dev-2"])
    device = enrolled(client, tmp_path, "dev-1")
    assert client.get("/device/v1/checkin").status_code == 401
    # a request signed by another device's key under dev-1's name
    impostor = enrolled(client, tmp_path, "dev-2")
    forged = DeviceClient(client, DeviceIdentity("dev-1", impostor.identity.private_key))
    response = forged.checkin()
    assert response.status_code == 401
    assert "bad signature" in response.json()["error"]
    # a captured request sent again
    target = "/device/v1/checkin"
    headers = device.signed_headers("GET", target, b"")
    assert client.get(target, headers=headers).status_code == 200
    replay = client.get(target, headers=headers)
    assert replay.status_code == 401
    assert "replayed" in replay.json()["error"]
    # the signature covers the query: a changed installed version does not verify
    headers = device.signed_headers("GET", target + "?installed=1.0.0", b"")
    assert client.get(target + "?installed=2.0.0", headers=headers).status_code == 401


def test_checkin_records_the_release_and_supports_etags(client, database, fleet, tmp_path):
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    first = device.checkin(installed="1.0.0", state="idle")
    assert first.status_code == 200
    body = first.json()
    assert body["installed"] == {"version": "1.0.0", "release_counter": 1}
    assert body["assignment"] is None
    assert body["poll_seconds"] == 3600
    assert body["security_updates"] == {"choice": "automatic", "postponed_until": None}
    again = device.checkin(installed="1.0.0", etag=first.headers["etag"])
    assert again.status_code == 304
    unknown = device.checkin(installed="7.7.7")
    assert unknown.status_code == 422
    assert "no release '7.7.7'" in unknown.json()["error"]
    assert device.checkin().json()["installed"]["version"] == "1.0.0"


def test_devices_past_support_end_are_told(client, database, fleet, tmp_path):
    import datetime as dt

    from fleetcare.portfolio.models import Product

    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    with database.session() as session:
        product = session.get(Product, fleet.product_id)
        product.placed_on_market = dt.date(2019, 1, 1)
        product.support_end = dt.date(2025, 6, 30)
        session.commit()
    notices = device.checkin().json()["notices"]
    assert notices[0]["type"] == "end_of_support"
    assert notices[0]["support_end"] == "2025-06-30"
    assert "June 2025" in notices[0]["message"]


def test_metadata_and_targets_download_with_range(client, database, fleet, tmp_path):
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    timestamp = device.request("GET", "/device/v1/tuf/metadata/timestamp.json")
    assert timestamp.status_code == 200
    assert timestamp.json()["signed"]["_type"] == "timestamp"
    image = firmware("2.0.0")
    digest = hashlib.sha256(image).hexdigest()
    path = f"/device/v1/tuf/targets/{fleet.product_id}/2.0.0/{digest}.image.bin"
    whole = device.request("GET", path)
    assert whole.status_code == 200
    assert whole.content == image
    part = device.request("GET", path, headers={"Range": "bytes=1000-"})
    assert part.status_code == 206
    assert part.content == image[1000:]
    assert part.headers["content-range"] == f"bytes 1000-{len(image) - 1}/{len(image)}"
    outside = device.request("GET", path, headers={"Range": f"bytes={len(image)}-"})
    assert outside.status_code == 416
    wrong_hash = path.replace(digest, "0" * 64)
    assert device.request("GET", wrong_hash).status_code == 404


def test_device_requests_are_rate_limited(app, client, database, fleet, tmp_path):
    app.state.settings.device_rate_limit = 3
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    device.sessions = False  # every request signed with the key: nothing but check-ins counted
    codes = [device.checkin().status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429


def test_failed_authentication_is_limited_per_address(app, client, database, fleet, tmp_path):
    app.state.settings.device_rate_limit = 3
    codes = [client.get("/device/v1/checkin").status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429
    ddi = [
        client.get("/DEFAULT/controller/v1/x", headers={"Authorization": "TargetToken y"})
        for _ in range(2)
    ]
    assert [r.status_code for r in ddi] == [429, 429]


def test_the_lifecycle_counts_the_registry_devices(client, database, fleet, tmp_path):
    from fleetcare.lifecycle import service as lifecycle
    from fleetcare.updates import devices

    register(database, ["dev-1", "dev-2"], customer="ACME")
    enrolled(client, tmp_path, "dev-1")
    devices.connect_lifecycle()
    try:
        with database.session() as session:
            seen = lifecycle.field_devices(session, [fleet.product_id])
            counts = lifecycle.devices_in_field(session, [fleet.product_id])
    finally:
        lifecycle.unregister_device_source(devices.field_devices)
    assert sorted(seen) == ["dev-1", "dev-2"]
    assert seen["dev-1"].customer_ref == "ACME"
    assert counts == {fleet.product_id: 1}  # only the enrolled one is active
