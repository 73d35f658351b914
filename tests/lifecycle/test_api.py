"""The end-of-life API: plans, customers and CSV imports (bad input changes nothing), notices,
the public notice, upstream end-of-life warnings and ceasing operations."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fleetcare.core.auth import Role
from fleetcare.lifecycle import service
from tests.lifecycle.conftest import SETUP, make_fleet
from tests.notify_support import jobs

PLAN = {
    "milestones": [12, 24, 6],
    "send_hour": 10,
    "upgrade_path": "Swap for a T2",
    "transition_offer": "Half price",
    "decommissioning": {"factory_reset": "Hold the dial", "disposal": "WEEE bin"},
    "annex_ii": {"support_type": "Security updates only", "after_support": "No fixes"},
}


@pytest.fixture
def product(client, tokens):
    body = {"name": "Thermostat T1", "placed_on_market": "2024-03-01", "support_end": "2031-03-31"}
    response = client.post("/api/v1/products", json=body, headers=tokens.headers(Role.PRODUCT))
    assert response.status_code == 201, response.text
    return response.json()["slug"]


def test_a_product_manager_makes_a_plan_and_everyone_reads_it(client, tokens, product):
    missing = client.get(f"/api/v1/eol/plans/{product}", headers=tokens.headers(Role.VIEWER))
    assert missing.status_code == 404
    assert "no end-of-life plan" in missing.json()["error"]
    refused = client.put(
        f"/api/v1/eol/plans/{product}", json=PLAN, headers=tokens.headers(Role.SECURITY)
    )
    assert refused.status_code == 403
    saved = client.put(
        f"/api/v1/eol/plans/{product}",
        json={**PLAN, "end_of_sale": "2029-12-31"},
        headers=tokens.headers(Role.PRODUCT),
    )
    assert saved.status_code == 200, saved.text
    plan = saved.json()
    assert plan["milestones"] == [24, 12, 6]
    assert plan["end_of_sale"] == "2029-12-31"
    assert [(m["months_before"], m["on"], m["status"]) for m in plan["schedule"]] == [
        (24, "2029-03-31", "scheduled"),
        (12, "2030-03-31", "scheduled"),
        (6, "2030-09-30", "scheduled"),
    ]
    # 10:00 in Berlin (the default zone) in summer is 08:00 UTC.
    assert plan["schedule"][0]["due_at"].startswith("2029-03-31T08:00:00")
    read = client.get(f"/api/v1/eol/plans/{product}", headers=tokens.headers(Role.VIEWER))
    assert read.json() == plan


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"milestones": [200]}, "out of range"),
        ({"send_hour": 24}, "send_hour"),
        ({"decommissioning": {"shred": "yes"}}, "decommissioning.shred"),
        ({"end_of_sale": "2032-01-01"}, "after support end"),
        ({"successor": "No Such Product"}, "No Such Product"),
    ],
)
def test_bad_plans_are_refused_and_change_nothing(client, tokens, product, change, message):
    response = client.put(
        f"/api/v1/eol/plans/{product}",
        json={**PLAN, **change},
        headers=tokens.headers(Role.PRODUCT),
    )
    assert response.status_code in (404, 422), response.text
    assert message in json.dumps(response.json())
    shown = client.get(f"/api/v1/products/{product}", headers=tokens.headers(Role.VIEWER)).json()
    assert shown["end_of_sale"] is None
    assert (
        client.get(f"/api/v1/eol/plans/{product}", headers=tokens.headers(Role.VIEWER)).status_code
        == 404
    )


CUSTOMERS = (
    "ref,name,kind,language,emails,channels,webhook_url,transition_offers\n"
    "acme,Acme Ltd,business,en,ops@acme.example;it@acme.example,email;webhook,https://acme.example/hook,yes\n"
    "jane,Jane Doe,consumer,de,jane@example.test,email,,no\n"
)


def test_customers_and_devices_import_from_csv(client, tokens, product):
    headers = {**tokens.headers(Role.PRODUCT), "Content-Type": "text/csv"}
    imported = client.post("/api/v1/customers/import", content=CUSTOMERS, headers=headers)
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert (report["created"], report["updated"]) == (2, 0)
    assert report["webhook_secrets"]["acme"].startswith("whsec_")
    devices = "device,customer,product,state\nd1,acme,thermostat-t1,active\nd2,acme,Thermostat T1,\nd3,jane,thermostat-t1,decommissioned\n"
    added = client.post("/api/v1/customers/devices/import", content=devices, headers=headers)
    assert added.json() == {"created": 3, "updated": 0, "webhook_secrets": {}}
    moved = client.post(
        "/api/v1/customers/devices/import",
        content="device,customer,product\nd3,jane,thermostat-t1\n",
        headers=headers,
    )
    assert moved.json()["updated"] == 1
    listed = client.get("/api/v1/customers", headers=tokens.headers(Role.PRODUCT)).json()
    assert [(c["ref"], c["devices"], c["channels"]) for c in listed] == [
        ("acme", 2, ["email", "webhook"]),
        ("jane", 1, ["email"]),
    ]
    assert "webhook_secret" not in listed[0] or listed[0]["webhook_secret"] is None
    # Customers hold personal data: viewers do not read them.
    assert client.get("/api/v1/customers", headers=tokens.headers(Role.VIEWER)).status_code == 403


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/v1/customers/import", "", "the CSV file is empty"),
        ("/api/v1/customers/import", "ref,nom\nx,y\n", "lacks the column(s) name"),
        ("/api/v1/customers/import", "ref,name,colour\nx,y,red\n", "unknown CSV column(s) colour"),
        (
            "/api/v1/customers/import",
            "ref,name,emails\nok,Fine,ok@example.test\nbad,Bad,not-an-address\n",
            "line 3",
        ),
        (
            "/api/v1/customers/import",
            "ref,name,channels\nw,Webhook only,webhook\n",
            "needs a webhook URL",
        ),
        ("/api/v1/customers/import", "ref,name,kind\nk,K,robot\n", "line 2: kind"),
        (
            "/api/v1/customers/import",
            "ref,name,emails\na,A,a@example.test\na,A again,a@example.test\n",
            "appears twice",
        ),
        (
            "/api/v1/customers/devices/import",
            "device,customer,product\nd1,nobody,thermostat-t1\n",
            "no customer with reference 'nobody'",
        ),
        (
            "/api/v1/customers/devices/import",
            "device,customer\nd1,x\n",
            "lacks the column(s) product",
        ),
        ("/api/v1/customers/devices/import", "device,customer,product\n", "no devices"),
        (
            "/api/v1/customers/devices/import",
            'device,customer,product\n"unterminated,x,y\n',
            "line",
        ),
    ],
)
def test_bad_csv_is_refused_with_one_line_and_changes_nothing(
    client, tokens, product, path, body, message
):
    headers = {**tokens.headers(Role.PRODUCT), "Content-Type": "text/csv"}
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]
    assert "\n" not in response.json()["error"]
    assert client.get("/api/v1/customers", headers=tokens.headers(Role.PRODUCT)).json() == []


def test_non_utf8_csv_is_refused(client, tokens):
    headers = {**tokens.headers(Role.PRODUCT), "Content-Type": "text/csv"}
    response = client.post(
        "/api/v1/customers/import", content=b"ref,name\nx,\xff\n", headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"] == "the file must be UTF-8 text"


@pytest.fixture
def wired(settings, database, monkeypatch):
    """Jobs run at once in this process, and every channel 'sends' without a network."""
    monkeypatch.setattr(service, "_send", lambda *args: None)
    with jobs(settings, database):
        yield


def test_notices_calendar_and_delivery_log(client, tokens, database, settings, wired):
    fleet = make_fleet(
        database, settings, customers=2, devices_each=2, support_end=dt.date(2027, 3, 31)
    )
    ran = client.post("/api/v1/eol/notices/run", headers=tokens.headers(Role.PRODUCT))
    assert ran.status_code == 200, ran.text
    [notice] = ran.json()
    assert notice["months_before"] == 6  # 24 and 12 months were superseded: the plan came late
    assert notice["late"] is True
    assert notice["deliveries"] == {"sent": 2}
    calendar = client.get("/api/v1/eol/calendar", headers=tokens.headers(Role.VIEWER)).json()
    [row] = calendar
    assert (row["slug"], row["devices_in_field"], row["notices_sent"]) == (fleet.slug, 4, 1)
    assert row["next_milestone"]["months_before"] == 3
    log = client.get(
        "/api/v1/eol/deliveries", params={"status": "sent"}, headers=tokens.headers(Role.VIEWER)
    )
    assert [d["customer"] for d in log.json()] == ["c2", "c1"]
    bad = client.get(
        "/api/v1/eol/deliveries", params={"status": "lost"}, headers=tokens.headers(Role.VIEWER)
    )
    assert bad.status_code == 422


def test_the_public_notice_is_rate_limited_and_needs_no_token(client, database, settings):
    fleet = make_fleet(database, settings, customers=0)
    response = client.get(f"/api/v1/public/eol/{fleet.slug}")
    assert response.status_code == 200
    body = response.json()
    assert body["support_end_month_year"] == "March 2031"
    assert body["decommissioning"] == {"factory_reset": "Hold the dial for 10 seconds."}
    assert body["security_updates_stay_available"] is True
    assert client.get("/api/v1/public/eol/no-such-product").status_code == 404


def test_upstream_end_of_life_before_support_end_is_warned(client, tokens, database, settings):
    from fleetcare.portfolio import service as portfolio
    from fleetcare.portfolio.schemas import ReleaseIn
    from fleetcare.sbom import service as sbom

    fleet = make_fleet(database, settings, customers=0)
    sbom_json = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "timestamp": "2026-01-01T00:00:00Z",
            "component": {"type": "firmware", "name": "t1", "version": "1.0"},
        },
        "components": [
            {
                "type": "library",
                "name": "openssl",
                "version": "3.0.13",
                "bom-ref": "a",
                "purl": "pkg:generic/openssl@3.0.13",
            },
            {
                "type": "library",
                "name": "zlib",
                "version": "1.3.1",
                "bom-ref": "b",
                "purl": "pkg:generic/zlib@1.3.1",
            },
        ],
    }
    with database.session() as session:
        portfolio.create_release(
            session,
            fleet.product_id,
            ReleaseIn(version="1.0", release_date=dt.date(2025, 1, 1), kind="feature"),
            actor=SETUP,
        )
        sbom.import_sbom(
            session,
            fleet.product_id,
            "1.0",
            json.dumps(sbom_json).encode(),
            file_name="t1.cdx.json",
            actor=SETUP,
        )
        session.commit()
    cycles = [
        {"cycle": "3.0", "eol": "2026-09-07", "latest": "3.0.15"},
        {"cycle": "3.5", "eol": "2030-04-08", "latest": "3.5.1"},
    ]
    headers = {**tokens.headers(Role.PRODUCT), "Content-Type": "application/json"}
    done = client.post(
        "/api/v1/eol/upstream/import",
        params={"upstream": "openssl"},
        content=json.dumps(cycles),
        headers=headers,
    )
    assert done.json() == {"cycles": 2}
    unnamed = client.post(
        "/api/v1/eol/upstream/import", content=json.dumps(cycles), headers=headers
    )
    assert unnamed.status_code == 422
    assert "name the upstream product" in unnamed.json()["error"]
    bad = client.post(
        "/api/v1/eol/upstream/import",
        content=json.dumps({"zlib": [{"cycle": "1.3", "eol": "soon"}]}),
        headers=headers,
    )
    assert bad.status_code == 422
    assert "zlib[0]: eol must be a date" in bad.json()["error"]
    [warning] = client.get(
        "/api/v1/eol/upstream/warnings", headers=tokens.headers(Role.VIEWER)
    ).json()
    assert (warning["component"], warning["cycle"], warning["upstream_eol"]) == (
        "openssl",
        "3.0",
        "2026-09-07",
    )
    assert "before Thermostat T1's support ends on 2031-03-31" in warning["message"]


def test_ceasing_operations_prepares_and_sends_notices(client, tokens, database, settings, wired):
    make_fleet(database, settings, customers=2, devices_each=1)
    body = {
        "effective_on": "2020-01-01",
        "authority_name": "BNetzA",
        "authority_email": "msa@example.test",
    }
    past = client.post("/api/v1/eol/cessations", json=body, headers=tokens.headers("admin"))
    assert past.status_code == 422
    assert "must be in the future" in past.json()["error"]
    body["effective_on"] = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    assert (
        client.post(
            "/api/v1/eol/cessations", json=body, headers=tokens.headers(Role.PRODUCT)
        ).status_code
        == 403
    )
    prepared = client.post("/api/v1/eol/cessations", json=body, headers=tokens.headers("admin"))
    assert prepared.status_code == 201, prepared.text
    cessation = prepared.json()
    assert "Article 13(23)" in cessation["authority_notice"]
    assert "Thermostat T1" in cessation["customer_notice"]
    items = [i["item"] for i in cessation["checklist"]]
    assert any("signing keys" in i for i in items)
    assert any("escrow" in i for i in items)
    assert any(i.startswith("Last SBOM of Thermostat T1") for i in items)
    ticked = client.post(
        f"/api/v1/eol/cessations/{cessation['id']}/checklist/1", headers=tokens.headers("admin")
    )
    assert ticked.json()["checklist"][1]["done"] is True
    sent = client.post(
        f"/api/v1/eol/cessations/{cessation['id']}/send", headers=tokens.headers("admin")
    )
    assert sent.json()["status"] == "sent"
    again = client.post(
        f"/api/v1/eol/cessations/{cessation['id']}/send", headers=tokens.headers("admin")
    )
    assert again.status_code == 409
    [notice] = client.get("/api/v1/eol/notices", headers=tokens.headers(Role.VIEWER)).json()
    assert (notice["kind"], notice["customers"], notice["deliveries"]) == (
        "cessation",
        2,
        {"sent": 2},
    )
    from fleetcare.core import notify

    with database.session() as session:
        [authority] = notify.list_deliveries(session, object_type="cessation")
    assert authority.target == "msa@example.test"


def test_after_support_end_security_releases_stay_and_feature_rollouts_stop(
    client, tokens, database, settings
):
    fleet = make_fleet(
        database, settings, customers=1, devices_each=2, support_end=dt.date(2026, 6, 30)
    )
    headers = tokens.headers(Role.PRODUCT)
    release = {
        "version": "1.2.3",
        "release_date": "2026-05-01",
        "kind": "security",
        "status": "released",
    }
    assert (
        client.post(
            f"/api/v1/products/{fleet.slug}/releases", json=release, headers=headers
        ).status_code
        == 201
    )
    deleted = client.delete(f"/api/v1/products/{fleet.slug}/releases/1.2.3", headers=headers)
    assert deleted.status_code == 422
    assert "Art. 13(9)" in deleted.json()["error"]
    from fleetcare.core.errors import RuleViolation

    with database.session() as session:
        service.check_rollout_allowed(session, fleet.product_id, "security")
        with pytest.raises(RuleViolation):
            service.check_rollout_allowed(session, fleet.product_id, "feature")
        notice = service.device_notice(session, fleet.product_id, settings=settings)
        assert notice is not None
        assert notice.kind == "end_of_support"
    [row] = client.get("/api/v1/eol/calendar", headers=tokens.headers(Role.VIEWER)).json()
    assert (row["support_status"], row["devices_in_field"], row["out_of_support_devices"]) == (
        "ended",
        2,
        2,
    )
