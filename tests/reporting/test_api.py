"""Article 14 cases through the API: opened by hand, from a report or proposed from exploited
findings; stage documents checked for completeness, submitted and frozen; user notices."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fleetcare.core.auth import Role
from fleetcare.core.models import AuditEvent
from tests.notify_support import WebhookReceiver
from tests.reporting.conftest import case_fields, iso

BERLIN = ZoneInfo("Europe/Berlin")


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def open_case(client, psirt, **changes):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/cases", headers=psirt, json=case_fields(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def deadline(case, document):  # type: ignore[no-untyped-def]
    return next(d for d in case["deadlines"] if d["document"] == document)


def test_a_case_opened_by_hand_has_the_statutory_deadlines(client, psirt, gateway, mail):
    aware = dt.datetime(2026, 3, 28, 9, 30, tzinfo=dt.UTC)
    case = open_case(client, psirt, aware_at=iso(aware))

    assert case["reference"].startswith("A14-")
    assert case["status"] == "open"
    assert parse(case["aware_at"]) == aware
    assert parse(deadline(case, "early_warning")["due"]) == aware + dt.timedelta(hours=24)
    assert parse(deadline(case, "notification")["due"]) == aware + dt.timedelta(hours=72)
    # shown in the manufacturer's zone too: across the DST change, CET then CEST
    assert deadline(case, "early_warning")["due_local"] == "2026-03-29 11:30 CEST"
    final = deadline(case, "final")
    assert final["provisional"] is True
    assert case["coordinating_csirt"] == "CSIRT designated as coordinator of Germany"
    assert case["member_states"] == ["DE", "FR", "NL"]
    assert [d["key"] for d in case["documents"]] == ["early_warning", "notification", "final"]
    assert case["documents"][0]["content"]["member_states"] == ["DE", "FR", "NL"]
    assert case["documents"][1]["content"]["incident_nature"] == (
        "An attacker signed and pushed firmware to 40 gateways.")
    [alert] = mail.to("security@example.test")
    assert "Article 14 case opened" in alert["Subject"]
    assert "early warning due 2026-03-29 09:30 UTC (2026-03-29 11:30 CEST)" in (
        alert.get_content())


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"aware_at": iso(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))}, 422, "future"),
        ({"aware_at": "2026-03-28T09:30:00"}, 422, "aware_at"),  # no zone: which 09:30?
        ({"awareness_evidence": ""}, 422, "awareness_evidence"),
        ({"kind": "rumour"}, 422, "kind"),
        ({"products": [{"product": "Nope"}]}, 404, "no product 'Nope'"),
        ({"products": [{"product": "Gateway X1", "versions": ["9.9"]}]}, 404, "no release '9.9'"),
        ({"member_states": ["DE", "CH"]}, 422, "'CH' is not an EU Member State"),
        ({"vulnerability_ids": ["<script>"]}, 422, "not a vulnerability id"),
    ],
)
def test_bad_cases_are_refused_and_nothing_is_stored(client, psirt, gateway, changes, status,
                                                     message):
    response = client.post("/api/v1/cases", headers=psirt, json=case_fields(**changes))
    assert response.status_code == status
    assert message in response.json()["error"]
    assert client.get("/api/v1/cases", headers=psirt).json() == []


def test_a_document_is_checked_for_completeness_before_it_can_be_submitted(
    client, psirt, gateway
):
    case = open_case(client, psirt)
    base = f"/api/v1/cases/{case['reference']}/documents/early_warning"

    incomplete = client.post(f"{base}/submit", headers=psirt, json={"reference": "SRP-1"})

    assert incomplete.status_code == 422
    assert incomplete.json()["detail"]["problems"] == [
        "suspected_malicious: required (Art. 14(4)(a)): Is the incident suspected of being "
        "caused by unlawful or malicious acts?"
    ]
    shown = client.get(base, headers=psirt).json()
    assert shown["status"] == "draft"
    assert shown["problems"] == incomplete.json()["detail"]["problems"]
    bad = client.patch(base, headers=psirt, json={"content": {"suspected_malicious": "maybe"}})
    assert bad.status_code == 422
    assert "choose one of yes, no" in bad.json()["error"]
    unknown = client.patch(base, headers=psirt, json={"content": {"colour": "red"}})
    assert unknown.status_code == 422
    saved = client.patch(base, headers=psirt, json={"content": {"suspected_malicious": "yes"}})
    assert saved.status_code == 200
    assert saved.json()["problems"] == []
    assert saved.json()["content"]["member_states"] == ["DE", "FR", "NL"]  # kept


def test_a_submitted_document_is_frozen(client, psirt, gateway, database):
    case = open_case(client, psirt)
    ref = case["reference"]
    base = f"/api/v1/cases/{ref}/documents/early_warning"
    client.patch(base, headers=psirt, json={"content": {"suspected_malicious": "yes"}})
    filed_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)

    submitted = client.post(f"{base}/submit", headers=psirt,
                            json={"reference": "ENISA-SRP-77", "submitted_at": iso(filed_at)})

    assert submitted.status_code == 200
    document = submitted.json()
    assert document["status"] == "submitted"
    assert document["submitted_reference"] == "ENISA-SRP-77"
    assert parse(document["submitted_at"]) == filed_at
    assert document["submitted_by"] == "security@example.test (token 2)"
    # frozen: no edit, no prefill, no second submission
    edit = client.patch(base, headers=psirt, json={"content": {"suspected_malicious": "no"}})
    assert edit.status_code == 409
    assert "is frozen" in edit.json()["error"]
    assert client.post(f"{base}/prefill", headers=psirt).status_code == 409
    assert client.post(f"{base}/submit", headers=psirt,
                       json={"reference": "again"}).status_code == 409
    assert client.get(base, headers=psirt).json()["content"]["suspected_malicious"] == "yes"
    # the export is exactly what was frozen, and its hash is in the audit log
    exported = client.get(f"{base}/export", headers=psirt)
    assert exported.headers["content-disposition"] == (
        f'attachment; filename="{ref}-early_warning.json"')
    body = exported.json()
    assert body["status"] == "submitted"
    assert body["platform_reference"] == "ENISA-SRP-77"
    assert body["content"] == {"suspected_malicious": "yes", "member_states": ["DE", "FR", "NL"]}
    assert body["coordinating_csirt"]["member_state"] == "DE"
    digest = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert digest == document["snapshot_sha256"]
    with database.session() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.document.submit")
        ).scalar_one()
    assert event.summary["after"]["sha256"] == digest
    # the case moving on does not change the frozen document
    client.patch(f"/api/v1/cases/{ref}", headers=psirt, json={"member_states": ["AT"]})
    assert client.get(f"{base}/export", headers=psirt).json() == body
    assert client.patch(f"/api/v1/cases/{ref}", headers=psirt,
                        json={"aware_at": iso(dt.datetime.now(dt.UTC))}).status_code == 409


def test_incident_final_deadline_moves_when_the_notification_is_submitted(
    client, psirt, gateway
):
    aware = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=40)
    case = open_case(client, psirt, aware_at=iso(aware))
    ref = case["reference"]
    before = deadline(case, "final")
    assert before["provisional"] is True
    notification_due = aware + dt.timedelta(hours=72)
    assert parse(before["due"]).astimezone(BERLIN).day == notification_due.astimezone(BERLIN).day

    client.patch(f"/api/v1/cases/{ref}/documents/notification", headers=psirt, json={"content": {
        "incident_nature": "Firmware signed with a stolen key was pushed.",
        "initial_assessment": "40 devices affected in DE.",
        "corrective_measures_taken": "Key revoked; rollout halted.",
        "user_measures": "Install 1.0.1.",
        "sensitivity": "TLP:AMBER",
    }})
    filed = aware + dt.timedelta(hours=30)
    submitted = client.post(f"/api/v1/cases/{ref}/documents/notification/submit",
                            headers=psirt, json={"reference": "SRP-2", "submitted_at": iso(filed)})
    assert submitted.status_code == 200

    after = deadline(client.get(f"/api/v1/cases/{ref}", headers=psirt).json(), "final")
    assert after["provisional"] is False
    assert parse(after["due"]) < parse(before["due"])
    local_filed = filed.astimezone(BERLIN)
    local_due = parse(after["due"]).astimezone(BERLIN)
    year, month = divmod(local_filed.year * 12 + local_filed.month, 12)  # the next month
    last_day = calendar.monthrange(year, month + 1)[1]
    assert (local_due.year, local_due.month, local_due.day) == (
        year, month + 1, min(local_filed.day, last_day))
    assert (local_due.hour, local_due.minute) == (local_filed.hour, local_filed.minute)
    assert after["rule"] == "one month after the incident notification was submitted"


def test_the_final_report_needs_the_notification_and_the_measure(client, psirt, gateway):
    case = open_case(client, psirt, kind="exploited_vulnerability",
                     vulnerability_ids=["CVE-2026-0001"])
    ref = case["reference"]
    shown = client.get(f"/api/v1/cases/{ref}/documents/final", headers=psirt).json()
    assert "submit the notification before the final report" in shown["problems"]
    assert any("measure_available_at" in p for p in shown["problems"])
    assert deadline(case, "final")["due"] is None
    patched = client.patch(f"/api/v1/cases/{ref}", headers=psirt,
                           json={"measure_available_at": iso(dt.datetime.now(dt.UTC))})
    final = deadline(patched.json(), "final")
    assert final["due"] is not None
    assert final["rule"] == "14 days after the corrective or mitigating measure became available"
    # prefilled from the security release 1.0.1 and the CVE
    content = shown["content"]
    assert "Gateway X1 1.0.1" in content["security_update_details"]
    notification = client.get(f"/api/v1/cases/{ref}/documents/notification",
                              headers=psirt).json()["content"]
    assert "Gateway X1 (model GX1), versions: 1.0.0" in notification["product_information"]
    assert notification["sensitivity"] == "TLP:AMBER"


def test_submission_times_must_make_sense(client, psirt, gateway):
    aware = dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)
    ref = open_case(client, psirt, aware_at=iso(aware))["reference"]
    base = f"/api/v1/cases/{ref}/documents/early_warning"
    client.patch(base, headers=psirt, json={"content": {"suspected_malicious": "no"}})
    early = client.post(f"{base}/submit", headers=psirt,
                        json={"reference": "x", "submitted_at": iso(aware - dt.timedelta(1))})
    assert early.status_code == 422
    assert "before the manufacturer became aware" in early.json()["error"]
    future = client.post(f"{base}/submit", headers=psirt, json={
        "reference": "x", "submitted_at": iso(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))})
    assert future.status_code == 422
    assert client.get(base, headers=psirt).json()["status"] == "draft"


def test_a_case_opened_from_a_report(client, psirt, gateway):
    receipt = client.post("/api/v1/public/reports", json={
        "title": "Exploited: upload bypass", "product": "gateway-x1", "affected_version": "1.0.0",
        "description": "Seen exploited in the wild.", "impact": "Remote code execution.",
    }).json()
    tid = receipt["tracking_id"]
    client.post(f"/api/v1/reports/{tid}/links", headers=psirt,
                json={"kind": "vulnerability", "ref": "CVE-2026-4242"})

    case = client.post("/api/v1/cases", headers=psirt, json={
        "kind": "exploited_vulnerability", "title": "Upload bypass exploited",
        "aware_at": iso(dt.datetime.now(dt.UTC)), "awareness_evidence": "Reporter's PoC + logs",
        "report": tid,
    })

    assert case.status_code == 201
    detail = case.json()
    assert detail["origin"] == "report"
    assert detail["report"] == tid
    assert detail["products"] == [{"product": "Gateway X1", "slug": "gateway-x1",
                                   "versions": ["1.0.0"]}]
    assert detail["vulnerability_ids"] == ["CVE-2026-4242"]
    final = next(d for d in detail["documents"] if d["key"] == "final")
    assert final["content"]["vulnerability_description"] == "Seen exploited in the wild."
    assert final["content"]["impact"] == "Remote code execution."
    assert client.post("/api/v1/cases", headers=psirt, json={
        **case_fields(), "report": "VR-0000-0000"}).status_code == 404


def test_exploited_findings_are_proposed_once_and_confirmed_by_a_person(
    client, psirt, exploited_world, mail
):
    proposed = client.post("/api/v1/cases/propose", headers=psirt)

    assert proposed.status_code == 200
    cases = proposed.json()
    assert sorted(c["title"] for c in cases) == [
        "CVE-2024-1086 exploited, affects Gateway GX-500",
        "CVE-2024-1086 exploited, affects Thermostat T2",
    ]
    assert all(c["status"] == "proposed" and c["aware_at"] is None for c in cases)
    assert client.post("/api/v1/cases/propose", headers=psirt).json() == []  # once
    assert any("Article 14 case proposed" in m["Subject"] for m in mail.messages)
    gx = next(c for c in cases if "GX-500" in c["title"])
    detail = client.get(f"/api/v1/cases/{gx['reference']}", headers=psirt).json()
    assert detail["deadlines"] == []  # no clock before awareness is confirmed
    assert detail["products"][0]["versions"] == ["23.05.5-gx3"]
    assert "CISA KEV" in detail["summary"]

    aware = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    confirmed = client.post(f"/api/v1/cases/{gx['reference']}/confirm", headers=psirt, json={
        "aware_at": iso(aware), "awareness_evidence": "Exploit attempts in honeypot logs"})

    assert confirmed.status_code == 200
    case = confirmed.json()
    assert case["status"] == "open"
    assert case["awareness_evidence"] == "Exploit attempts in honeypot logs"
    assert case["confirmed_by"] == "security@example.test (token 2)"
    assert parse(deadline(case, "early_warning")["due"]) == aware + dt.timedelta(hours=24)
    notification = next(d for d in case["documents"] if d["key"] == "notification")["content"]
    assert "CVE-2024-1086" in notification["vulnerability_nature"]
    assert "Known Exploited Vulnerabilities" in notification["exploit_nature"]
    final = next(d for d in case["documents"] if d["key"] == "final")["content"]
    assert final["severity"] == "high"  # from CVSS 7.8

    t2 = next(c for c in cases if "T2" in c["title"])
    dismissed = client.post(f"/api/v1/cases/{t2['reference']}/dismiss", headers=psirt,
                            json={"reason": "The vulnerable module is not loaded on T2."})
    assert dismissed.json()["status"] == "dismissed"
    assert client.post(f"/api/v1/cases/{t2['reference']}/confirm", headers=psirt, json={
        "aware_at": iso(aware), "awareness_evidence": "x"}).status_code == 409
    assert client.post("/api/v1/cases/propose", headers=psirt).json() == []  # not again


def test_an_intermediate_report_on_the_csirts_request(client, psirt, gateway):
    ref = open_case(client, psirt)["reference"]
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)

    requested = client.post(f"/api/v1/cases/{ref}/intermediate", headers=psirt, json={
        "csirt_request": "BSI mail 2026-11-30, ref CB-1234", "due": iso(due)})

    assert requested.status_code == 201
    assert requested.json()["key"] == "intermediate-1"
    assert requested.json()["problems"][0].startswith("status_update: required (Art. 14(6))")
    case = client.get(f"/api/v1/cases/{ref}", headers=psirt).json()
    assert [d["document"] for d in case["deadlines"]] == [
        "early_warning", "notification", "intermediate-1", "final"]
    assert parse(deadline(case, "intermediate-1")["due"]) == due
    second = client.post(f"/api/v1/cases/{ref}/intermediate", headers=psirt,
                         json={"csirt_request": "second request"})
    assert second.json()["key"] == "intermediate-2"
    assert client.get(f"/api/v1/cases/{ref}/documents/intermediate-9",
                      headers=psirt).status_code == 404


def test_users_are_notified_and_the_time_of_sending_is_recorded(
    client, psirt, gateway, mail, tokens, settings
):
    receiver = WebhookReceiver()
    try:
        hook = client.post("/api/v1/webhooks", headers=tokens.headers(Role.ADMIN),
                           json={"name": "customer portal", "url": receiver.url,
                                 "events": ["case.user_notice"]}).json()
        receiver.secret = hook["secret"]
        ref = open_case(client, psirt, vulnerability_ids=["CVE-2026-7777"])["reference"]
        before = dt.datetime.now(dt.UTC)

        sent = client.post(f"/api/v1/cases/{ref}/notices", headers=psirt, json={
            "subject": "Security notice: update your Gateway X1",
            "body": "Install firmware 1.0.1 now; until then, disable remote access.",
            "recipients": ["Ops@Customer.example", "ops@customer.example", "it@other.example"],
        })

        assert sent.status_code == 201
        notice = sent.json()
        assert notice["recipients"] == ["ops@customer.example", "it@other.example"]
        assert notice["webhook_calls"] == 1
        assert parse(notice["sent_at"]) >= before
        assert [m["Subject"] for m in mail.to("ops@customer.example")] == [
            "Security notice: update your Gateway X1"]
        assert mail.to("it@other.example")
        call = receiver.calls[0]
        assert call.signature_ok
        assert call.json["event"] == "case.user_notice"
        assert call.json["data"]["vulnerabilities"] == ["CVE-2026-7777"]
        assert call.json["data"]["products"] == ["Gateway X1"]
        listed = client.get(f"/api/v1/cases/{ref}/notices",
                            headers=tokens.headers(Role.VIEWER)).json()
        assert [n["subject"] for n in listed] == ["Security notice: update your Gateway X1"]
        bad = client.post(f"/api/v1/cases/{ref}/notices", headers=psirt, json={
            "subject": "x", "body": "y", "recipients": ["not an address"]})
        assert bad.status_code == 422
        nobody = client.post(f"/api/v1/cases/{ref}/notices", headers=psirt, json={
            "subject": "x", "body": "y", "recipients": [], "webhooks": False})
        assert nobody.status_code == 422
    finally:
        receiver.stop()


def test_the_deadline_board_puts_overdue_first_and_speaks_the_readers_zone(
    client, psirt, gateway, tokens
):
    now = dt.datetime.now(dt.UTC)
    late = open_case(client, psirt, title="Late one", aware_at=iso(now - dt.timedelta(hours=30)))
    soon = open_case(client, psirt, title="Fresh one", aware_at=iso(now - dt.timedelta(hours=2)))
    client.post("/api/v1/public/reports", json={"description": "a report"})

    board = client.get("/api/v1/deadlines", headers=tokens.headers(Role.VIEWER),
                       params={"tz": "America/New_York"})

    assert board.status_code == 200
    items = board.json()
    assert (items[0]["reference"], items[0]["what"], items[0]["urgency"]) == (
        late["reference"], "early warning", "overdue")
    assert items[0]["left"].endswith("ago")
    assert items[1]["reference"] == soon["reference"]
    assert items[1]["urgency"] == "soon"
    assert items[0]["due_local"].endswith(("EST", "EDT"))
    dues = [parse(i["due"]) for i in items[1:] if i["due"]]
    assert dues == sorted(dues)
    kinds = {i["kind"] for i in items}
    assert kinds == {"case", "report"}
    assert client.get("/api/v1/deadlines", headers=psirt,
                      params={"tz": "Mars/Olympus"}).status_code == 422


def test_closing_a_case_stops_its_clocks(client, psirt, gateway):
    ref = open_case(client, psirt, aware_at=iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=5)))[
        "reference"]
    closed = client.post(f"/api/v1/cases/{ref}/close", headers=psirt,
                         json={"reason": "Opened in error: a lab device, not in the field."})
    assert closed.json()["status"] == "closed"
    assert closed.json()["next_deadline"] is None
    assert client.get("/api/v1/deadlines", headers=psirt).json() == []
    assert client.patch(f"/api/v1/cases/{ref}/documents/early_warning", headers=psirt,
                        json={"content": {"suspected_malicious": "no"}}).status_code == 409
    assert client.post(f"/api/v1/cases/{ref}/close", headers=psirt,
                       json={"reason": "again"}).status_code == 409


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RELEASE, Role.PRODUCT])
def test_everyone_reads_cases_and_only_the_security_team_acts(client, psirt, gateway, tokens,
                                                              role):
    ref = open_case(client, psirt)["reference"]
    headers = tokens.headers(role)
    assert client.get(f"/api/v1/cases/{ref}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/cases/{ref}/documents/notification/export",
                      headers=headers).status_code == 200
    assert client.post("/api/v1/cases", headers=headers, json=case_fields()).status_code == 403
    assert client.post(f"/api/v1/cases/{ref}/documents/early_warning/submit", headers=headers,
                       json={"reference": "x"}).status_code == 403


def test_a_report_links_to_a_real_finding_and_vulnerability(client, psirt, exploited_world,
                                                           database):
    from fleetcare.matching import service as matching

    with database.session() as session:
        finding = next(f for f in matching.exploited_candidates(session)
                       if f.product_name == "Gateway GX-500")
    tid = client.post("/api/v1/public/reports",
                      json={"description": "Kernel LPE works on the GX-500"}).json()["tracking_id"]

    linked = client.post(f"/api/v1/reports/{tid}/links", headers=psirt,
                         json={"kind": "finding", "ref": str(finding.finding_id)})
    vulnerability = client.post(f"/api/v1/reports/{tid}/links", headers=psirt,
                                json={"kind": "vulnerability", "ref": "CVE-2024-1086"})

    assert linked.status_code == 201
    assert linked.json()["label"] == (
        f"CVE-2024-1086 in {finding.component_name} {finding.component_version} "
        "(Gateway GX-500 23.05.5-gx3)")
    assert vulnerability.json()["label"] == "2 finding(s) in our releases"
    case = client.post("/api/v1/cases", headers=psirt, json={
        "kind": "exploited_vulnerability", "title": "Kernel LPE exploited",
        "aware_at": iso(dt.datetime.now(dt.UTC)), "awareness_evidence": "report", "report": tid,
        "products": [{"product": "Gateway GX-500", "versions": ["23.05.5-gx3"]}]}).json()
    assert case["vulnerability_ids"] == ["CVE-2024-1086"]
