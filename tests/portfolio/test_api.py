"""The portfolio API, including every kind of bad input: each gets a 4xx and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetcare.core.auth import Role

PRODUCT = {
    "name": "Sensor Hub S1",
    "model_id": "SH-S1",
    "cra_category": "important_class_i",
    "placed_on_market": "2026-03-01",
    "support_end": "2032-03-31",
    "intended_purpose": "Collects readings from home sensors.",
}


@pytest.fixture
def pm(tokens):
    return tokens.headers(Role.PRODUCT)


def _count(client, tokens) -> int:
    return client.get("/api/v1/products", headers=tokens.headers(Role.VIEWER)).json()["total"]


def _audit_count(client, tokens) -> int:
    return len(client.get("/api/v1/audit", headers=tokens.headers(Role.ADMIN), params={"limit": 1000}).json())


def test_create_show_list_product(client, tokens, pm):
    created = client.post("/api/v1/products", json=PRODUCT, headers=pm)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["slug"] == "sensor-hub-s1"
    assert body["support_end_month_year"] == "March 2032"
    assert body["documentation_retained_until"] == "2036-03-01"
    assert body["support_status"] == "supported"
    shown = client.get("/api/v1/products/sensor-hub-s1", headers=tokens.headers(Role.VIEWER))
    assert shown.json()["name"] == "Sensor Hub S1"
    assert client.get(f"/api/v1/products/{body['id']}", headers=pm).status_code == 200
    page = client.get("/api/v1/products", params={"q": "hub"}, headers=pm).json()
    assert [p["name"] for p in page["items"]] == ["Sensor Hub S1"]


def test_update_product(client, tokens, pm):
    client.post("/api/v1/products", json=PRODUCT, headers=pm)
    changed = client.patch("/api/v1/products/sensor-hub-s1", headers=pm,
                           json={"support_end": "2035-12-31", "end_of_sale": "2030-01-01"})
    assert changed.status_code == 200
    assert changed.json()["support_end"] == "2035-12-31"
    cleared = client.patch("/api/v1/products/sensor-hub-s1", headers=pm, json={"end_of_sale": None})
    assert cleared.json()["end_of_sale"] is None
    events = client.get("/api/v1/audit", headers=tokens.headers(Role.ADMIN),
                        params={"action": "product.update"}).json()
    assert events[-1]["summary"]["before"]["support_end"] == "2032-03-31"


def test_short_support_period_needs_expected_use_time_and_justification(client, tokens, pm):
    short = {**PRODUCT, "support_end": "2029-03-01"}
    refused = client.post("/api/v1/products", json=short, headers=pm)
    assert refused.status_code == 422
    assert "Art. 13(8)" in refused.json()["error"]
    refused = client.post("/api/v1/products", json={**short, "expected_use_months": 36}, headers=pm)
    assert refused.status_code == 422
    assert "missing" in refused.json()["error"]
    assert _count(client, tokens) == 0
    reasons = dict.fromkeys(("user_expectations", "nature_and_purpose", "union_law_lifetime", "peer_support_periods", "operating_environment", "third_party_components"), "documented")
    accepted = client.post("/api/v1/products", headers=pm, json={
        **short, "expected_use_months": 36, "support_justification": reasons})
    assert accepted.status_code == 201
    assert accepted.json()["support_justification"]["peer_support_periods"] == "documented"


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({**PRODUCT, "colour": "red"}, 422, "colour"),
        ({**PRODUCT, "name": "x" * 201}, 422, "name"),
        ({**PRODUCT, "description": "x" * 5001}, 422, "description"),
        ({**PRODUCT, "name": "   "}, 422, "name"),
        ({**PRODUCT, "placed_on_market": "2026-02-30"}, 422, "placed_on_market"),
        ({**PRODUCT, "support_end": "2020-01-01"}, 422, "not after placing"),
        ({**PRODUCT, "end_of_sale": "2040-01-01"}, 422, "after support end"),
        ({**PRODUCT, "cra_category": "important"}, 422, "cra_category"),
        ({**PRODUCT, "successor": "No Such Product"}, 422, "successor"),
        ({k: v for k, v in PRODUCT.items() if k != "support_end"}, 422, "support_end"),
        ({**PRODUCT, "support_justification": {"mood": "good"}}, 422, "mood"),
    ],
)
def test_bad_product_input_changes_nothing(client, tokens, pm, payload, status, fragment):
    before = _audit_count(client, tokens)
    response = client.post("/api/v1/products", json=payload, headers=pm)
    assert response.status_code == status, response.text
    body = response.json()
    assert fragment in body["error"] + str(body["detail"])
    assert _count(client, tokens) == 0
    assert _audit_count(client, tokens) == before


def test_malformed_json(client, pm):
    response = client.post("/api/v1/products", content=b'{"name": "x",', headers={
        **pm, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "malformed JSON in the request body"


def test_duplicate_names_are_refused(client, tokens, pm):
    assert client.post("/api/v1/products", json=PRODUCT, headers=pm).status_code == 201
    for name in ("Sensor Hub S1", "sensor hub s1", "Sensor-Hub S1"):
        response = client.post("/api/v1/products", json={**PRODUCT, "name": name}, headers=pm)
        assert response.status_code == 409, name
        assert "already exists" in response.json()["error"]
    assert _count(client, tokens) == 1


def test_unknown_product_is_404(client, pm):
    response = client.get("/api/v1/products/nope", headers=pm)
    assert response.status_code == 404
    assert response.json() == {"error": "no product 'nope'", "detail": None}


def test_roles_for_writes(client, tokens):
    for role in (Role.VIEWER, Role.SECURITY, Role.RELEASE):
        assert client.post("/api/v1/products", json=PRODUCT, headers=tokens.headers(role)).status_code == 403
    assert client.post("/api/v1/products", json=PRODUCT, headers=tokens.headers(Role.ADMIN)).status_code == 201


# --- releases ------------------------------------------------------------------------------


@pytest.fixture
def product(client, pm):
    return client.post("/api/v1/products", json=PRODUCT, headers=pm).json()


def _release(client, headers, version, kind="security", status="released", day="2026-05-01"):
    return client.post("/api/v1/products/sensor-hub-s1/releases", headers=headers, json={
        "version": version, "release_date": day, "kind": kind, "status": status})


def test_release_lifecycle(client, tokens, product):
    rm = tokens.headers(Role.RELEASE)
    created = _release(client, rm, "1.0.0", kind="feature", status="draft")
    assert created.status_code == 201
    assert created.json()["available_until"] is None
    released = client.post("/api/v1/products/sensor-hub-s1/releases/1.0.0/status", headers=rm,
                           json={"status": "released"})
    assert released.json()["status"] == "released"
    withdrawn = client.post("/api/v1/products/sensor-hub-s1/releases/1.0.0/status", headers=rm,
                            json={"status": "withdrawn"})
    assert withdrawn.json()["status"] == "withdrawn"
    back = client.post("/api/v1/products/sensor-hub-s1/releases/1.0.0/status", headers=rm,
                       json={"status": "released"})
    assert back.status_code == 409


def test_security_release_must_stay_available(client, tokens, product):
    rm = tokens.headers(Role.RELEASE)
    created = _release(client, rm, "1.0.1").json()
    assert created["available_until"] == "2036-05-01"  # issued + 10 years > support end
    for attempt in (
        client.post("/api/v1/products/sensor-hub-s1/releases/1.0.1/status", headers=rm,
                    json={"status": "withdrawn"}),
        client.delete("/api/v1/products/sensor-hub-s1/releases/1.0.1", headers=rm),
    ):
        assert attempt.status_code == 422
        assert "Art. 13(9)" in attempt.json()["error"]
        assert attempt.json()["detail"] == {"available_until": "2036-05-01"}
    shown = client.get("/api/v1/products/sensor-hub-s1/releases/1.0.1", headers=rm).json()
    assert shown["status"] == "released"


def test_mixed_release_counts_as_security(client, tokens, product):
    rm = tokens.headers(Role.RELEASE)
    _release(client, rm, "1.1.0", kind="mixed")
    assert client.delete("/api/v1/products/sensor-hub-s1/releases/1.1.0", headers=rm).status_code == 422


def test_draft_and_feature_releases_can_be_deleted(client, tokens, product):
    rm = tokens.headers(Role.RELEASE)
    _release(client, rm, "2.0.0-rc1", status="draft")
    _release(client, rm, "2.0.0", kind="feature")
    assert client.delete("/api/v1/products/sensor-hub-s1/releases/2.0.0-rc1", headers=rm).status_code == 204
    assert client.delete("/api/v1/products/sensor-hub-s1/releases/2.0.0", headers=rm).status_code == 204
    assert client.get("/api/v1/products/sensor-hub-s1/releases", headers=rm).json() == []


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"version": "1.0", "release_date": "2026-05-01", "kind": "hotfix"}, "kind"),
        ({"version": "../etc", "release_date": "2026-05-01", "kind": "feature"}, "version"),
        ({"version": "1.0", "release_date": "2026-05-01", "kind": "feature", "status": "withdrawn"}, "withdrawn"),
        ({"version": "1.0", "release_date": "yesterday", "kind": "feature"}, "release_date"),
        ({"version": "1.0", "kind": "feature", "extra": 1}, "extra"),
    ],
)
def test_bad_release_input(client, tokens, product, payload, fragment):
    response = client.post("/api/v1/products/sensor-hub-s1/releases", json=payload,
                           headers=tokens.headers(Role.RELEASE))
    assert response.status_code == 422
    assert fragment in response.json()["error"] + str(response.json()["detail"])
    assert client.get("/api/v1/products/sensor-hub-s1/releases", headers=tokens.headers(Role.VIEWER)).json() == []


def test_duplicate_release_version(client, tokens, product):
    rm = tokens.headers(Role.RELEASE)
    assert _release(client, rm, "1.0.0").status_code == 201
    again = _release(client, rm, "1.0.0", kind="feature")
    assert again.status_code == 409


def test_viewer_cannot_add_releases(client, tokens, product):
    assert _release(client, tokens.headers(Role.VIEWER), "1.0.0").status_code == 403
    assert _release(client, tokens.headers(Role.SECURITY), "1.0.0").status_code == 403


# --- public support data -------------------------------------------------------------------


def test_public_support_in_endoflife_date_shape(client, tokens, product):
    rm = tokens.headers(Role.RELEASE)
    _release(client, rm, "1.0.0", day="2026-03-01")
    _release(client, rm, "1.0.1", day="2026-06-01")
    _release(client, rm, "1.1.0-beta", status="draft", day="2026-07-01")
    response = client.get("/api/v1/public/support")
    assert response.status_code == 200
    [cycle] = response.json()
    assert cycle == {
        "product": "Sensor Hub S1",
        "cycle": "SH-S1",
        "releaseDate": "2026-03-01",
        "support": "2032-03-31",
        "eol": "2032-03-31",
        "latest": "1.0.1",
        "latestReleaseDate": "2026-06-01",
        "lts": False,
        "link": "http://127.0.0.1:8000/support#sensor-hub-s1",
    }


def test_public_support_is_rate_limited(client, app):
    app.state.settings.public_rate_limit = 3
    app.state.rate_limiters.clear()
    codes = [client.get("/api/v1/public/support").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
    limited = client.get("/api/v1/public/support")
    assert int(limited.headers["retry-after"]) >= 1
    assert "too many requests" in limited.json()["error"]


def test_support_status_job_audits_changes(database):
    from fleetcare.core.auth import system_principal
    from fleetcare.portfolio import service
    from fleetcare.portfolio.schemas import ProductIn

    with database.session() as session:
        service.create_product(session, ProductIn.model_validate(PRODUCT), actor=system_principal())
        assert service.record_support_status_changes(session, on=dt.date(2027, 1, 1)) == 1
        assert service.record_support_status_changes(session, on=dt.date(2027, 6, 1)) == 0
        assert service.record_support_status_changes(session, on=dt.date(2031, 4, 1)) == 1
        assert service.record_support_status_changes(session, on=dt.date(2032, 4, 1)) == 1
        session.commit()
        from fleetcare.core import audit

        actions = [e.summary["after"]["support_status"] for e in audit.list_events(
            session, action="product.support_status")]
    assert actions == ["ended", "ending_soon", "supported"]
