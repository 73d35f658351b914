"""Coordinated disclosure through the API: an outsider reports, follows and answers through the
status link; the security team works the report; internal notes never reach the reporter."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from sqlalchemy import func, select, text

from fleetcare.core.auth import Role
from fleetcare.core.models import AuditEvent
from fleetcare.disclosure.models import Report
from fleetcare.disclosure.rules import TRACKING_ID
from tests.disclosure.conftest import REPORTER, report_fields, submit
from tests.web.conftest import make_product


def status(client, token):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/public/reports/status", params={"token": token})


def reports_count(database) -> int:
    with database.session() as session:
        return session.execute(select(func.count(Report.id))).scalar_one()


def test_an_anonymous_report_gets_a_tracking_id_a_private_link_and_a_receipt(
    client, database, mail, psirt
):
    make_product(database, "Gateway X1", releases=("1.0.0",))

    response = submit(client)

    assert response.status_code == 201
    receipt = response.json()
    assert TRACKING_ID.match(receipt["tracking_id"])
    assert receipt["status"] == "received"
    token = receipt["status_token"]
    assert receipt["status_url"] == (
        f"https://psirt.example.com/security/report/status?token={token}"
    )
    # The reporter's receipt, with the link; the team's alert, without the report's details.
    [to_reporter] = mail.to(REPORTER)
    assert receipt["tracking_id"] in to_reporter["Subject"]
    assert receipt["status_url"] in to_reporter.get_content()
    [to_team] = mail.to("security@example.test")
    assert "New vulnerability report" in to_team["Subject"]
    assert "/disclosure/" + receipt["tracking_id"] in to_team.get_content()
    assert "cgi-bin" not in to_team.get_content()
    # The reporter sees it through the link.
    view = status(client, token).json()
    assert view["tracking_id"] == receipt["tracking_id"]
    assert view["product"] == "Gateway X1"
    assert view["status_label"] == "received"
    assert view["messages"][0]["author"] == "automatic"
    assert "will acknowledge it by" in view["messages"][0]["body"]
    # The team sees everything, and the report is linked to our product.
    detail = client.get(f"/api/v1/reports/{receipt['tracking_id']}", headers=psirt).json()
    assert detail["product_slug"] == "gateway-x1"
    assert detail["received_via"] == "api"
    assert detail["credits"][0]["name"] == "Ada Finder"


def test_internal_notes_never_reach_the_reporter(client, psirt, mail):
    receipt = submit(client).json()
    tid, token = receipt["tracking_id"], receipt["status_token"]

    note = client.post(f"/api/v1/reports/{tid}/messages", headers=psirt,
                       json={"body": "Internal: the vendor SDK is to blame", "internal": True})
    reply = client.post(f"/api/v1/reports/{tid}/messages", headers=psirt,
                        json={"body": "Thanks, we reproduced it."})
    moved = client.post(f"/api/v1/reports/{tid}/status", headers=psirt,
                        json={"status": "triaging", "message": "We are assessing the impact."})

    assert (note.status_code, reply.status_code, moved.status_code) == (201, 201, 200)
    view = status(client, token).json()
    bodies = [m["body"] for m in view["messages"]]
    assert "Thanks, we reproduced it." in bodies
    assert "We are assessing the impact." in bodies
    assert "Status: being triaged." in bodies
    assert not any("vendor SDK" in b for b in bodies)
    assert {m["author"] for m in view["messages"]} == {"automatic", "security team"}
    assert "security@example.test" not in str(view)  # team members stay anonymous
    # Email to the reporter says there is news, never the news itself.
    updates = [m for m in mail.to(REPORTER) if "Update" in m["Subject"]]
    assert updates
    assert all("vendor SDK" not in m.get_content() for m in mail.messages)
    assert all("reproduced" not in m.get_content() for m in updates)
    # The team sees the note, marked internal.
    detail = client.get(f"/api/v1/reports/{tid}", headers=psirt).json()
    assert [m["internal"] for m in detail["messages"] if "vendor SDK" in m["body"]] == [True]


def test_the_first_answer_acknowledges_the_report(client, psirt):
    receipt = submit(client).json()
    tid = receipt["tracking_id"]
    client.post(f"/api/v1/reports/{tid}/messages", headers=psirt,
                json={"body": "note to self", "internal": True})
    assert client.get(f"/api/v1/reports/{tid}", headers=psirt).json()["acknowledged_at"] is None

    client.post(f"/api/v1/reports/{tid}/messages", headers=psirt, json={"body": "Got it!"})

    detail = client.get(f"/api/v1/reports/{tid}", headers=psirt).json()
    assert detail["status"] == "acknowledged"
    assert detail["acknowledged_at"] is not None
    assert detail["clocks"]["next_update_due"] is not None
    view = status(client, receipt["status_token"]).json()
    assert view["acknowledged_at"] == detail["acknowledged_at"]


def test_the_reporter_answers_through_the_status_link(client, psirt):
    receipt = submit(client).json()

    answer = client.post("/api/v1/public/reports/status/messages",
                         json={"token": receipt["status_token"], "body": "Here is a PoC video."})

    assert answer.status_code == 201
    assert answer.json()["messages"][-1] == {**answer.json()["messages"][-1], "author": "you"}
    detail = client.get(f"/api/v1/reports/{receipt['tracking_id']}", headers=psirt).json()
    assert detail["messages"][-1]["author_kind"] == "reporter"
    assert detail["messages"][-1]["body"] == "Here is a PoC video."


def test_the_workflow_from_receipt_to_disclosure(client, psirt, database):
    receipt = submit(client).json()
    tid = receipt["tracking_id"]

    def move(**body):  # type: ignore[no-untyped-def]
        return client.post(f"/api/v1/reports/{tid}/status", headers=psirt, json=body)

    skipped = move(status="fixed")
    assert skipped.status_code == 409
    assert skipped.json()["error"] == (
        "a received report cannot become fixed; it can become: acknowledged, duplicate, "
        "rejected, triaging"
    )
    for step in ("acknowledged", "triaging", "accepted", "fix_in_progress"):
        assert move(status=step).status_code == 200, step
    embargo = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).date()
    assert move(status="fixed", embargo_until=embargo.isoformat()).status_code == 200
    early = move(status="disclosed")
    assert early.status_code == 409
    assert f"under embargo until {embargo}" in early.json()["error"]
    lifted = client.patch(f"/api/v1/reports/{tid}", headers=psirt, json={"embargo_until": None})
    assert lifted.status_code == 200
    done = move(status="disclosed")
    assert done.status_code == 200
    assert done.json()["disclosed_at"] is not None
    assert done.json()["clocks"]["next_update_due"] is None  # closed: nothing more owed
    view = status(client, receipt["status_token"]).json()
    assert view["status"] == "disclosed"
    with database.session() as session:
        actions = session.execute(
            select(AuditEvent.action).where(AuditEvent.object_type == "report")
            .order_by(AuditEvent.seq)
        ).scalars().all()
    assert actions == [
        "report.receive", "report.acknowledged", "report.triaging", "report.accepted",
        "report.fix_in_progress", "report.fixed", "report.update", "report.disclosed",
    ]


def test_a_duplicate_names_the_original(client, psirt):
    first = submit(client).json()["tracking_id"]
    second = submit(client).json()["tracking_id"]
    assert client.post(f"/api/v1/reports/{second}/status", headers=psirt,
                       json={"status": "duplicate"}).status_code == 409
    assert client.post(f"/api/v1/reports/{second}/status", headers=psirt,
                       json={"status": "duplicate", "duplicate_of": second}).status_code == 422
    done = client.post(f"/api/v1/reports/{second}/status", headers=psirt,
                       json={"status": "duplicate", "duplicate_of": first.lower()})
    assert done.status_code == 200
    assert done.json()["duplicate_of"] == first


def test_reports_from_other_channels_keep_their_source_and_arrival_time(client, psirt, mail):
    arrived = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)

    recorded = client.post("/api/v1/reports", headers=psirt, json={
        **report_fields(source="csirt", reporter_email="cert@csirt.example", product="Other Co"),
        "received_at": arrived.isoformat(),
    })

    assert recorded.status_code == 201
    tid = recorded.json()["tracking_id"]
    detail = client.get(f"/api/v1/reports/{tid}", headers=psirt).json()
    assert detail["source"] == "csirt"
    assert detail["received_via"] == "team"
    assert detail["product"] == "Other Co"
    assert detail["product_slug"] is None
    assert dt.datetime.fromisoformat(detail["received_at"]) == arrived
    assert mail.to("cert@csirt.example")  # they chose email: they get their link
    listed = client.get("/api/v1/reports", headers=psirt, params={"source": "csirt"}).json()
    assert [r["tracking_id"] for r in listed["items"]] == [tid]
    future = client.post("/api/v1/reports", headers=psirt, json={
        **report_fields(), "received_at": (arrived + dt.timedelta(days=30)).isoformat()})
    assert future.status_code == 422


def test_credits_and_links(client, psirt, database):
    make_product(database, "Gateway X1", releases=("1.0.0", "1.0.1"))
    tid = submit(client, wants_credit=False).json()["tracking_id"]
    base = f"/api/v1/reports/{tid}"

    credit = client.post(f"{base}/credits", headers=psirt,
                         json={"name": "Bob Coordinator", "kind": "coordinator"})
    release = client.post(f"{base}/links", headers=psirt,
                          json={"kind": "release", "ref": "Gateway X1@1.0.1"})
    cve = client.post(f"{base}/links", headers=psirt,
                      json={"kind": "vulnerability", "ref": "cve-2026-12345"})
    advisory = client.post(f"{base}/links", headers=psirt,
                           json={"kind": "advisory", "ref": "FC-SA-2026-004"})

    assert credit.status_code == 201
    assert release.json() == {**release.json(), "ref": "gateway-x1@1.0.1",
                              "label": "Gateway X1 1.0.1"}
    assert cve.json()["ref"] == "CVE-2026-12345"
    assert advisory.status_code == 201
    again = client.post(f"{base}/links", headers=psirt,
                        json={"kind": "release", "ref": "gateway-x1@1.0.1"})
    assert again.status_code == 409
    missing = client.post(f"{base}/links", headers=psirt,
                          json={"kind": "release", "ref": "gateway-x1@9.9"})
    assert missing.status_code == 404
    assert "no release '9.9'" in missing.json()["error"]
    assert client.post(f"{base}/links", headers=psirt,
                       json={"kind": "finding", "ref": "999999"}).status_code == 404
    assert client.post(f"{base}/links", headers=psirt,
                       json={"kind": "vulnerability", "ref": "<b>x</b>"}).status_code == 422
    detail = client.get(base, headers=psirt).json()
    assert [(x["kind"], x["ref"]) for x in detail["links"]] == [
        ("release", "gateway-x1@1.0.1"), ("vulnerability", "CVE-2026-12345"),
        ("advisory", "FC-SA-2026-004")]
    assert client.delete(f"{base}/links/{cve.json()['id']}", headers=psirt).status_code == 204
    assert client.delete(f"{base}/credits/{credit.json()['id']}",
                         headers=psirt).status_code == 204
    detail = client.get(base, headers=psirt).json()
    assert len(detail["links"]) == 2
    assert detail["credits"] == []


def test_an_attachment_is_kept_and_served_only_as_a_download(client, psirt):
    content = b"<html><script>alert(1)</script></html>"
    tid = submit(client, attachment={
        "filename": "../../poc <1>.html", "media_type": "text/html",
        "content_base64": base64.b64encode(content).decode(),
    }).json()["tracking_id"]

    attachment = client.get(f"/api/v1/reports/{tid}", headers=psirt).json()["attachments"][0]
    download = client.get(f"/api/v1/reports/{tid}/attachments/{attachment['id']}",
                          headers=psirt)

    assert attachment["filename"] == "poc 1.html"
    assert attachment["size"] == len(content)
    assert download.content == content
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith('attachment; filename="poc 1.html"')
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    assert client.get(f"/api/v1/reports/{tid}/attachments/{attachment['id']}",
                      headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_new_status_link_replaces_the_old_one(client, psirt, mail):
    receipt = submit(client).json()
    mail.clear()

    fresh = client.post(f"/api/v1/reports/{receipt['tracking_id']}/status-link", headers=psirt)

    assert fresh.status_code == 200
    assert status(client, receipt["status_token"]).status_code == 404
    assert status(client, fresh.json()["status_token"]).status_code == 200
    [sent] = mail.to(REPORTER)
    assert fresh.json()["status_url"] in sent.get_content()


def test_the_status_token_is_stored_only_as_its_hash(client, database):
    token = submit(client).json()["status_token"]
    with database.session() as session:
        dump = " ".join(str(row) for row in session.execute(text("SELECT * FROM reports")))
        deliveries = " ".join(
            str(row) for row in session.execute(text("SELECT content FROM deliveries")))
    assert token not in dump
    assert token not in deliveries  # the receipt email was sent and its copy blanked


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (report_fields(reporter_email="", preferred_channel="email"),
         "preferred_channel is email, so give reporter_email"),
        (report_fields(preferred_channel="other", reporter_contact=""),
         "say how in reporter_contact"),
        (report_fields(openpgp_key="my key"), "ASCII-armoured"),
        (report_fields(description=""), "description"),
        (report_fields(colour="red"), "colour"),
        (report_fields(source="journalist"), "source"),
        (report_fields(reporter_email="not-an-address"), "not an email address"),
        (report_fields(wants_credit=True, reporter_name="", credit_as=""), "credit"),
    ],
)
def test_bad_reports_are_refused_with_the_reason_and_nothing_is_stored(
    client, database, mail, body, message
):
    response = client.post("/api/v1/public/reports", json=body)

    assert response.status_code == 422
    assert message in response.json()["error"]
    assert "detail" in response.json()
    assert reports_count(database) == 0
    assert mail.messages == []


def test_malformed_json_is_a_400(client, database):
    response = client.post("/api/v1/public/reports", content=b'{"description": ',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "malformed JSON in the request body"
    assert reports_count(database) == 0


def test_the_honeypot_sends_a_report_to_quarantine_without_telling_anyone(
    client, psirt, mail
):
    response = submit(client, website="http://cheap-watches.example")

    assert response.status_code == 201  # a robot learns nothing
    tid = response.json()["tracking_id"]
    assert mail.messages == []
    assert client.get("/api/v1/reports", headers=psirt).json()["items"] == []
    held = client.get("/api/v1/reports", headers=psirt, params={"quarantined": "true"}).json()
    assert [r["tracking_id"] for r in held["items"]] == [tid]
    assert held["items"][0]["quarantine_reason"] == "the hidden honeypot field was filled in"
    refused = client.post(f"/api/v1/reports/{tid}/messages", headers=psirt,
                          json={"body": "hello"})
    assert refused.status_code == 409

    released = client.post(f"/api/v1/reports/{tid}/release", headers=psirt)

    assert released.status_code == 200
    assert released.json()["quarantined"] is False
    [receipt] = mail.to(REPORTER)
    assert "status link you were shown" in receipt.get_content()
    assert client.delete(f"/api/v1/reports/{tid}", headers=psirt).status_code == 409


def test_junk_in_quarantine_can_be_discarded(client, psirt, database):
    tid = submit(client, website="x").json()["tracking_id"]
    assert client.delete(f"/api/v1/reports/{tid}", headers=psirt).status_code == 204
    assert reports_count(database) == 0
    assert client.get(f"/api/v1/reports/{tid}", headers=psirt).status_code == 404


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RELEASE, Role.PRODUCT])
def test_only_the_security_team_reads_reports(client, tokens, role):
    tid = submit(client).json()["tracking_id"]
    assert client.get("/api/v1/reports", headers=tokens.headers(role)).status_code == 403
    assert client.get(f"/api/v1/reports/{tid}", headers=tokens.headers(role)).status_code == 403
    assert client.get(f"/api/v1/reports/{tid}",
                      headers=tokens.headers(Role.ADMIN)).status_code == 200


def test_reports_are_listed_with_what_is_owed(client, psirt):
    for _ in range(3):
        submit(client)
    page = client.get("/api/v1/reports", headers=psirt, params={"open": "true", "limit": 2})
    assert page.status_code == 200
    assert page.json()["total"] == 3
    assert len(page.json()["items"]) == 2
    first = page.json()["items"][0]
    assert re.match(r"\d{4}-\d\d-\d\dT", first["clocks"]["acknowledgement_due"])
    assert first["clocks"]["acknowledgement_overdue"] is False
