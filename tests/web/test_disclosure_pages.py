"""The disclosure pages, driven like a browser: the public report form and status page (no
account), the policy and acknowledgments, and the security team's inbox and report pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fleetcare.core.auth import system_principal
from fleetcare.disclosure import service
from fleetcare.disclosure.models import Report
from fleetcare.disclosure.schemas import CreditIn, StatusChange
from fleetcare.web import disclosure as pages
from tests.notify_support import jobs, running_smtp
from tests.web.conftest import hidden, make_product

TEAM = system_principal("psirt@example.test", via="cli")
SCRIPT = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


@pytest.fixture(scope="module")
def smtp():
    yield from running_smtp()


@pytest.fixture
def mail(smtp):
    smtp.clear()
    return smtp


@pytest.fixture
def settings(settings, smtp):
    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
        "base_url": "http://testserver", "security_email": "security@fleetcare.test",
    })


@pytest.fixture
def client(client, settings, database):
    with jobs(settings, database):
        yield client


@pytest.fixture
def instant(monkeypatch):
    """People in tests type fast; the form's minimum fill time would hold them back."""
    monkeypatch.setattr(pages, "MIN_FILL_SECONDS", 0)


def form_fields(page_html: str, **changes: str) -> dict[str, str]:
    fields = {
        "form_stamp": hidden(page_html, "form_stamp"),
        "product": "gateway-x1",
        "product_text": "",
        "affected_version": "1.0.0",
        "title": "Unauthenticated firmware upload",
        "description": "POST /cgi-bin/upload accepts firmware without a session.",
        "steps_to_reproduce": "",
        "impact": "",
        "source": "researcher",
        "reporter_name": "Ada Finder",
        "reporter_email": "ada@research.example",
        "reporter_contact": "",
        "preferred_channel": "email",
        "credit_as": "",
        "openpgp_key": "",
        "website": "",
    }
    fields.update(changes)
    return fields


def send_report(client, **changes):  # type: ignore[no-untyped-def]
    page = client.get("/security/report")
    return client.post("/security/report", data=form_fields(page.text, **changes))


def status_link(html: str) -> str:
    match = re.search(r'id="status-link">(http://testserver/security/report/status\?token=[^<]+)<',
                      html)
    assert match, "no status link on the page"
    return match.group(1).replace("http://testserver", "")


def count_reports(database) -> int:
    with database.session() as session:
        return session.execute(select(func.count(Report.id))).scalar_one()


def test_the_report_form_needs_no_account_and_shows_the_policys_promises(client, database):
    make_product(database, "Gateway X1")
    page = client.get("/security/report")
    assert page.status_code == 200
    assert "Gateway X1" in page.text
    assert "5 working days" in page.text
    assert 'name="website"' in page.text
    assert 'class="hp"' in page.text
    assert hidden(page.text, "form_stamp")
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_a_report_sent_through_the_form_shows_its_private_link_once(client, database, mail,
                                                                     instant):
    make_product(database, "Gateway X1")
    sent = send_report(client)

    assert sent.status_code == 201
    link = status_link(sent.text)
    assert "it is shown only now" in sent.text
    assert sent.headers["cache-control"] == "no-store"
    [receipt] = mail.to("ada@research.example")
    assert link in receipt.get_content()
    status = client.get(link)
    assert status.status_code == 200
    assert "Unauthenticated firmware upload" in status.text
    assert status.headers["referrer-policy"] == "no-referrer"
    assert status.headers["cache-control"] == "no-store"
    with database.session() as session:
        report = session.execute(select(Report)).scalar_one()
        assert (report.received_via, report.quarantined, report.product_id is not None) == (
            "web", False, True)


def test_a_form_sent_faster_than_a_person_types_lands_in_quarantine(client, database, mail):
    sent = send_report(client)  # at once: MIN_FILL_SECONDS is in force
    assert sent.status_code == 201  # the robot sees the same page
    with database.session() as session:
        report = session.execute(select(Report)).scalar_one()
        assert report.quarantined
        assert "seconds after it was opened" in report.quarantine_reason
    assert mail.messages == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"website": "http://cheap.example"}, "honeypot"),
        ({"form_stamp": "forged"}, "time stamp"),
    ],
)
def test_robots_are_held_back_not_dropped(client, database, instant, changes, reason):
    assert send_report(client, **changes).status_code == 201
    with database.session() as session:
        report = session.execute(select(Report)).scalar_one()
        assert report.quarantined
        assert reason in report.quarantine_reason


def test_a_refused_form_comes_back_with_everything_typed(client, database, instant):
    response = send_report(client, description="", reporter_contact=SCRIPT,
                           title="Keep me <b>please</b>")
    assert response.status_code == 422
    assert "The report was not sent yet." in response.text
    assert "Description" in response.text
    assert 'value="Keep me &lt;b&gt;please&lt;/b&gt;"' in response.text
    assert ESCAPED in response.text
    assert SCRIPT not in response.text
    assert count_reports(database) == 0


def test_an_attachment_uploads_and_an_oversized_one_is_refused(client, database, instant,
                                                               settings):
    client.app.state.settings = settings.model_copy(update={"report_attachment_max_bytes": 2048})
    page = client.get("/security/report")
    ok = client.post("/security/report", data=form_fields(page.text),
                     files={"attachment": ("poc.py", b"print('pwn')\n", "text/x-python")})
    assert ok.status_code == 201
    too_big = client.post("/security/report", data=form_fields(page.text, title="big one"),
                          files={"attachment": ("dump.bin", b"\0" * 4096, "application/x")})
    assert too_big.status_code == 413
    assert "larger than 2048 bytes" in too_big.text
    assert 'value="big one"' in too_big.text
    with database.session() as session:
        [report] = session.execute(select(Report)).scalars().all()
        assert [(a.filename, a.size) for a in report.attachments] == [("poc.py", 13)]


def test_a_flood_from_one_address_is_answered_429_with_the_text_kept(app, database, settings,
                                                                      instant):
    app.state.settings = settings.model_copy(update={"report_rate_limit": 2})
    with jobs(settings, database):
        flood = TestClient(app, client=("203.0.113.5", 1))
        honest = TestClient(app, client=("198.51.100.5", 2))
        codes = [send_report(flood, title=f"r{i}").status_code for i in range(3)]
        limited = send_report(flood, title="my careful write-up")
        other = send_report(honest)
    assert codes == [201, 201, 429]
    assert limited.status_code == 429
    assert "Too many reports from your address" in limited.text
    assert 'value="my careful write-up"' in limited.text
    assert int(limited.headers["retry-after"]) > 0
    assert other.status_code == 201
    assert count_reports(database) == 3


def test_the_reporter_reads_progress_and_answers_but_never_sees_internal_notes(
    client, database, instant
):
    link = status_link(send_report(client).text)
    with database.session() as session:
        report = session.execute(select(Report)).scalar_one()
        service.add_message(session, report, "Internal: blame the SDK", internal=True,
                            actor=TEAM, settings=client.app.state.settings)
        service.change_status(session, report, StatusChange(status="triaging",
                                                            message="We can reproduce it."),
                              actor=TEAM, settings=client.app.state.settings)
        session.commit()

    page = client.get(link)
    assert "We can reproduce it." in page.text
    assert "being triaged" in page.text
    assert 'aria-current="step"' in page.text
    assert "blame the SDK" not in page.text
    assert "psirt@example.test" not in page.text
    token = hidden(page.text, "token")

    answer = client.post("/security/report/status", data={"token": token, "body": SCRIPT},
                         follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == link + "#messages"
    again = client.get(link)
    assert ESCAPED in again.text
    assert SCRIPT not in again.text
    empty = client.post("/security/report/status", data={"token": token, "body": "  "})
    assert empty.status_code == 422
    assert "Write a message" in empty.text


def test_the_policy_page_states_the_promises_and_the_csirt(client, database):
    make_product(database, "Gateway X1")
    page = client.get("/security/policy")
    assert page.status_code == 200
    for text in ("5 working days", "every 30 days", "90 days", "security@fleetcare.test",
                 "CSIRT designated as coordinator of Germany", "Gateway X1",
                 "/.well-known/security.txt", "third-party components"):
        assert text in page.text, text


def test_acknowledgments_list_public_credits_of_disclosed_reports_only(client, database):
    settings = client.app.state.settings
    with database.session() as session:
        disclosed, _ = service.submit_report(
            session, service.ReportIn(description="x", reporter_name=SCRIPT, wants_credit=True),
            via="api", settings=settings)
        for step in ("triaging", "accepted", "fixed", "disclosed"):
            service.change_status(session, disclosed, StatusChange(status=step), actor=TEAM,
                                  settings=settings)
        service.add_credit(session, disclosed, CreditIn(name="Hidden Helper", public=False),
                           actor=TEAM)
        service.submit_report(session, service.ReportIn(
            description="y", reporter_name="Still Embargoed", wants_credit=True),
            via="api", settings=settings)
        session.commit()
    page = client.get("/security/acknowledgments")
    assert ESCAPED in page.text
    assert SCRIPT not in page.text
    assert "Hidden Helper" not in page.text
    assert "Still Embargoed" not in page.text


# --- the security team's pages ---------------------------------------------------------------


@pytest.fixture
def report_id(client, database, instant) -> str:
    status_link(send_report(client, title=SCRIPT, description=SCRIPT, reporter_name=SCRIPT).text)
    with database.session() as session:
        return session.execute(select(Report.tracking_id)).scalar_one()


@pytest.mark.parametrize("role", ["viewer", "release", "product"])
def test_only_the_security_team_opens_the_inbox(client, log_in, report_id, role):
    csrf = log_in(client, role)
    for path in ("/disclosure", f"/disclosure/{report_id}", "/disclosure/new"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "may not open this page" in response.text
        assert "cgi-bin" not in response.text
    refused = client.post(f"/disclosure/{report_id}/messages",
                          data={"body": "hi", "csrf_token": csrf})
    assert refused.status_code == 403


def test_markup_from_reporters_is_escaped_on_every_team_page(client, log_in, report_id):
    log_in(client, "security")
    for path in ("/disclosure", f"/disclosure/{report_id}", "/deadlines"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert SCRIPT not in page.text, path
        assert ESCAPED in page.text, path


def test_the_team_works_a_report_from_its_page(client, log_in, report_id, database):
    csrf = log_in(client, "security")
    base = f"/disclosure/{report_id}"

    def post(path: str, **data: str):  # type: ignore[no-untyped-def]
        return client.post(base + path, data={**data, "csrf_token": csrf}, follow_redirects=False)

    assert post("/messages", body="Only for us", internal="1").status_code == 303
    assert post("/messages", body="Thanks, reproduced.").status_code == 303
    assert post("/status", status="triaging", message="Assessing.").status_code == 303
    assert post("/credits", name="Ada Finder", kind="finder", public="1").status_code == 303
    assert post("/links", kind="vulnerability", ref="CVE-2026-5555").status_code == 303
    wrong = post("/status", status="disclosed")
    assert wrong.status_code == 409
    assert "cannot become disclosed" in wrong.text
    page = client.get(base).text
    assert "internal note" in page
    assert "Only for us" in page
    assert "Thanks, reproduced." in page
    assert "CVE-2026-5555" in page
    assert 'id="report-status">being triaged<' in page
    fresh = post("/status-link")
    assert fresh.status_code == 200
    assert "/security/report/status?token=" in fresh.text
    case = client.post(f"/cases/from-report/{report_id}", data={
        "csrf_token": csrf, "kind": "exploited_vulnerability", "aware_at": "2026-11-02T10:00",
        "awareness_evidence": "PoC used against a customer", "title": ""},
        follow_redirects=False)
    assert case.status_code == 303
    case_page = client.get(case.headers["location"]).text
    assert f'/disclosure/{report_id}' in case_page
    assert SCRIPT not in case_page


def test_the_team_records_a_report_received_elsewhere(client, log_in, database):
    csrf = log_in(client, "security")
    make_product(database, "Gateway X1")
    recorded = client.post("/disclosure/new", data={
        "csrf_token": csrf, "source": "importer", "received_at": "2026-11-01T09:30",
        "product": "gateway-x1", "description": "Forwarded by our importer.",
        "reporter_email": "psirt@importer.example", "preferred_channel": "email"})
    assert recorded.status_code == 200
    assert "Report recorded." in recorded.text
    assert "/security/report/status?token=" in recorded.text
    with database.session() as session:
        report = session.execute(select(Report)).scalar_one()
        assert (report.source, report.received_via) == ("importer", "team")
        assert report.received_at.isoformat() == "2026-11-01T08:30:00+00:00"  # Berlin time
    bad = client.post("/disclosure/new", data={"csrf_token": csrf, "description": "",
                                               "source": "csirt"})
    assert bad.status_code == 422


def test_quarantine_is_reviewed_on_its_own_view(client, log_in, database, instant):
    send_report(client, website="spam", title="Buy watches")
    csrf = log_in(client, "security")
    assert "Buy watches" not in client.get("/disclosure").text
    held = client.get("/disclosure?view=quarantine").text
    assert "Buy watches" in held
    tracking_id = re.search(r'href="/disclosure/(VR-[^"]+)"', held).group(1)
    gone = client.post(f"/disclosure/{tracking_id}/discard", data={"csrf_token": csrf},
                       follow_redirects=False)
    assert gone.status_code == 303
    assert count_reports(database) == 0
    assert client.get("/disclosure?view=nonsense").status_code == 422


FORMS = {
    "/disclosure/new": {"description": "x", "source": "csirt"},
    "/disclosure/{t}/status": {"status": "triaging"},
    "/disclosure/{t}/messages": {"body": "x"},
    "/disclosure/{t}/edit": {"title": "x"},
    "/disclosure/{t}/credits": {"name": "x"},
    "/disclosure/{t}/credits/{credit_id}/remove": {},
    "/disclosure/{t}/links": {"kind": "advisory", "ref": "X-1"},
    "/disclosure/{t}/links/{link_id}/remove": {},
    "/disclosure/{t}/release": {},
    "/disclosure/{t}/discard": {},
    "/disclosure/{t}/status-link": {},
}


def test_the_csrf_table_covers_every_team_form():
    posted = {r.path.replace("{tracking_id}", "{t}") for r in pages.router.routes
              if "POST" in getattr(r, "methods", ()) and r.path.startswith("/disclosure")}
    assert posted == set(FORMS)


@pytest.mark.parametrize("path", sorted(FORMS))
def test_team_forms_need_the_sessions_csrf_token(client, log_in, report_id, database, path):
    log_in(client, "security")
    before = count_reports(database)
    url = path.format(t=report_id, credit_id=1, link_id=1)
    for token in (None, "", "forged"):
        data = dict(FORMS[path])
        if token is not None:
            data["csrf_token"] = token
        response = client.post(url, data=data, follow_redirects=False)
        assert response.status_code == 403, (url, token)
    assert count_reports(database) == before
