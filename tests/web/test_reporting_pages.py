"""The Article 14 pages: the deadline board, the cases, a case with its timeline, and the stage
documents with their printable and JSON forms; who may see and do what."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest

from fleetcare.core.auth import system_principal
from fleetcare.reporting import service
from fleetcare.reporting.schemas import CaseIn
from fleetcare.web import reporting as pages
from tests.notify_support import jobs, running_smtp
from tests.web.conftest import make_product

TEAM = system_principal("psirt@example.test", via="cli")
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def smtp():
    yield from running_smtp()


@pytest.fixture
def settings(settings, smtp):
    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
        "markets": ["DE", "AT"],
    })


@pytest.fixture
def client(client, settings, database):
    with jobs(settings, database):
        yield client


def open_case(database, settings, *, hours_ago: float, title: str = "Stolen signing key",
              kind: str = "severe_incident") -> str:
    make_product(database, f"Gateway {title[:20]}", releases=("1.0.0",))
    with database.session() as session:
        case, _ = service.open_case(session, CaseIn(
            kind=kind, title=title,
            aware_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago),
            awareness_evidence="SOC ticket", products=[{"product": f"Gateway {title[:20]}"}],
        ), actor=TEAM, settings=settings)
        session.commit()
        return case.reference


def test_the_board_shows_overdue_first_in_red_for_any_user(client, log_in, database, settings):
    late = open_case(database, settings, hours_ago=30, title="Late case")
    fresh = open_case(database, settings, hours_ago=1, title="Fresh case")
    log_in(client, "viewer")

    page = client.get("/deadlines")

    assert page.status_code == 200
    rows = re.findall(r'<tr class="(\w+)">.*?<a href="/cases/([^"]+)">', page.text, re.S)
    assert rows[0] == ("overdue", late)
    assert ("soon", fresh) in rows
    assert 'class="urgency overdue">overdue<' in page.text
    assert "Times in UTC and Europe/Berlin" in page.text


def test_the_reader_chooses_the_zone_times_are_shown_in(client, log_in, database, settings):
    ref = open_case(database, settings, hours_ago=2)
    csrf = log_in(client, "viewer")
    chosen = client.post("/deadlines/timezone", data={"tz": "America/New_York",
                                                      "back": f"/cases/{ref}",
                                                      "csrf_token": csrf},
                         follow_redirects=False)
    assert chosen.status_code == 303
    assert chosen.headers["location"] == f"/cases/{ref}"
    assert 'fleetcare_tz="America/New_York"' in chosen.headers["set-cookie"]
    board = client.get("/deadlines").text
    assert " EST" in board or " EDT" in board
    assert "UTC" in board
    case = client.get(f"/cases/{ref}").text
    assert "EST" in case or "EDT" in case
    bad = client.post("/deadlines/timezone", data={"tz": "Mars/Olympus", "csrf_token": csrf})
    assert bad.status_code == 422
    assert "unknown time zone" in bad.text
    offsite = client.post("/deadlines/timezone", data={"tz": "UTC", "back": "https://evil.example",
                                                       "csrf_token": csrf},
                          follow_redirects=False)
    assert offsite.headers["location"] == "/deadlines"


@pytest.mark.parametrize("role", ["viewer", "release", "product"])
def test_everyone_reads_cases_but_only_the_security_team_acts(client, log_in, database,
                                                              settings, role):
    ref = open_case(database, settings, hours_ago=2)
    csrf = log_in(client, role)
    listing = client.get("/cases")
    case = client.get(f"/cases/{ref}")
    document = client.get(f"/cases/{ref}/documents/early_warning")
    assert (listing.status_code, case.status_code, document.status_code) == (200, 200, 200)
    assert 'action="/cases"' not in listing.text
    assert "Mark submitted" not in document.text
    assert "readonly" in document.text or "disabled" in document.text
    for path, data in (("/cases", {"kind": "severe_incident"}),
                       (f"/cases/{ref}/documents/early_warning", {"suspected_malicious": "no"}),
                       (f"/cases/{ref}/close", {"reason": "x"})):
        refused = client.post(path, data={**data, "csrf_token": csrf})
        assert refused.status_code == 403, path
    assert client.get(f"/cases/{ref}").text.count("Stolen signing key") >= 1


def test_a_case_opened_on_the_page_reads_times_in_the_readers_zone(client, log_in, database):
    make_product(database, "Gateway X1", releases=("1.0.0",))
    csrf = log_in(client, "security")
    opened = client.post("/cases", data={
        "csrf_token": csrf, "kind": "exploited_vulnerability", "title": "Exploited upload bug",
        "aware_at": "2026-03-28T10:15", "awareness_evidence": "Honeypot hit",
        "product": "Gateway X1", "versions": "1.0.0", "vulnerability_ids": "CVE-2026-1111",
        "member_states": "",
    }, follow_redirects=False)
    assert opened.status_code == 303
    page = client.get(opened.headers["location"]).text
    # 10:15 in Berlin (CET) is 09:15 UTC; 24 hours later the clocks have gone to CEST
    assert "2026-03-28 09:15 UTC" in page
    assert "2026-03-29 09:15 UTC" in page
    assert "2026-03-29 11:15 CEST" in page
    assert "CVE-2026-1111" in page
    assert "manufacturer became aware" in page  # on the timeline
    missing = client.post("/cases", data={"csrf_token": csrf, "kind": "severe_incident",
                                          "title": "x", "aware_at": "", "awareness_evidence": ""})
    assert missing.status_code == 422
    assert "The case was not opened." in missing.text


def test_a_document_is_edited_submitted_and_then_frozen_on_its_page(client, log_in, database,
                                                                   settings):
    ref = open_case(database, settings, hours_ago=3)
    csrf = log_in(client, "security")
    base = f"/cases/{ref}/documents/early_warning"
    page = client.get(base).text
    assert "Not complete yet" in page
    assert 'name="ms_DE" value="1" checked' in page  # prefilled from the markets

    saved = client.post(base, data={"csrf_token": csrf, "suspected_malicious": "yes",
                                    "ms_DE": "1", "ms_FR": "1"}, follow_redirects=False)
    assert saved.status_code == 303
    refused = client.post(f"{base}/submit", data={"csrf_token": csrf, "reference": ""})
    assert refused.status_code == 422
    submitted = client.post(f"{base}/submit", data={"csrf_token": csrf,
                                                    "reference": "ENISA-SRP-55",
                                                    "submitted_at": ""},
                            follow_redirects=False)
    assert submitted.status_code == 303
    frozen = client.get(base).text
    assert "platform reference <strong>ENISA-SRP-55</strong>" in frozen
    assert "Frozen: SHA-256" in frozen
    assert "Save draft" not in frozen
    again = client.post(base, data={"csrf_token": csrf, "suspected_malicious": "no"})
    assert again.status_code == 409
    assert "is frozen" in again.text
    printable = client.get(f"{base}/print").text
    assert "Is the incident suspected of being caused by unlawful or malicious acts?" in printable
    assert "Germany, France" in printable
    assert "ENISA-SRP-55" in printable
    exported = client.get(f"{base}/export.json")
    assert exported.headers["content-disposition"] == (
        f'attachment; filename="{ref}-early_warning.json"')
    assert json.loads(exported.text)["content"] == {"suspected_malicious": "yes",
                                                    "member_states": ["DE", "FR"]}
    case = client.get(f"/cases/{ref}").text
    assert "submitted" in case
    assert "ENISA-SRP-55" in case


def test_proposals_are_confirmed_or_dismissed_on_the_page(client, log_in, database, settings):
    with database.session() as session:
        make_product(database, "Gateway X1", releases=("1.0.0",))
        proposed = []
        for title in ("CVE-2026-1 hits X1", "CVE-2026-2 hits X1"):
            case, _ = service.open_case(session, CaseIn(
                kind="exploited_vulnerability", title=title, aware_at=dt.datetime.now(dt.UTC),
                awareness_evidence="x", products=[{"product": "Gateway X1"}]),
                actor=TEAM, settings=settings)
            case.status, case.aware_at = "proposed", None  # as propose_cases leaves them
            proposed.append(case.reference)
        session.commit()
    csrf = log_in(client, "security")
    assert "Proposed: confirm or dismiss" in client.get("/cases").text
    confirmed = client.post(f"/cases/{proposed[0]}/confirm", data={
        "csrf_token": csrf, "aware_at": "2026-11-20T08:00", "awareness_evidence": "KEV entry"},
        follow_redirects=False)
    assert confirmed.status_code == 303
    assert "2026-11-20 07:00 UTC" in client.get(f"/cases/{proposed[0]}").text
    dismissed = client.post(f"/cases/{proposed[1]}/dismiss", data={
        "csrf_token": csrf, "reason": "Not in our build"}, follow_redirects=False)
    assert dismissed.status_code == 303
    no_reason = client.post(f"/cases/{proposed[0]}/dismiss", data={"csrf_token": csrf,
                                                                   "reason": ""})
    assert no_reason.status_code in (409, 422)


def test_users_are_notified_from_the_case_page(client, log_in, database, settings, smtp):
    smtp.clear()
    ref = open_case(database, settings, hours_ago=2)
    csrf = log_in(client, "security")
    sent = client.post(f"/cases/{ref}/notices", data={
        "csrf_token": csrf, "audience": "impacted", "subject": "Update your gateway",
        "body": "Install 1.0.1.", "recipients": "a@customer.example\nb@customer.example"},
        follow_redirects=False)
    assert sent.status_code == 303
    assert {m["To"] for m in smtp.messages if m["Subject"] == "Update your gateway"} == {
        "a@customer.example", "b@customer.example"}
    assert "to 2 addresses" in client.get(f"/cases/{ref}").text


def test_markup_in_a_case_is_escaped_on_every_page(client, log_in, database, settings):
    ref = open_case(database, settings, hours_ago=30, title=SCRIPT)
    log_in(client, "security")
    for path in ("/deadlines", "/cases", f"/cases/{ref}", f"/cases/{ref}/documents/notification",
                 f"/cases/{ref}/documents/notification/print"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert SCRIPT not in page.text, path
        assert ESCAPED in page.text, path


FORMS = {
    "/deadlines/timezone": {"tz": "UTC"},
    "/cases": {"kind": "severe_incident"},
    "/cases/propose": {},
    "/cases/from-report/{tracking_id}": {},
    "/cases/{ref}/confirm": {},
    "/cases/{ref}/dismiss": {"reason": "x"},
    "/cases/{ref}/close": {"reason": "x"},
    "/cases/{ref}/edit": {"title": "x"},
    "/cases/{ref}/intermediate": {"csirt_request": "x"},
    "/cases/{ref}/notices": {"subject": "x", "body": "y"},
    "/cases/{ref}/documents/{key}": {"suspected_malicious": "no"},
    "/cases/{ref}/documents/{key}/prefill": {},
    "/cases/{ref}/documents/{key}/submit": {"reference": "x"},
}


def test_the_csrf_table_covers_every_reporting_form():
    posted = {r.path for r in pages.router.routes if "POST" in getattr(r, "methods", ())}
    assert posted == set(FORMS)


@pytest.mark.parametrize("path", sorted(FORMS))
def test_reporting_forms_need_the_sessions_csrf_token(client, log_in, database, settings, path):
    ref = open_case(database, settings, hours_ago=2)
    log_in(client, "security")
    url = path.format(ref=ref, key="early_warning", tracking_id="VR-0000-0000")
    for token in (None, "forged"):
        data = dict(FORMS[path])
        if token is not None:
            data["csrf_token"] = token
        assert client.post(url, data=data, follow_redirects=False).status_code == 403
    with database.session() as session:
        case = service.get_case(session, ref)
        assert case.title == "Stolen signing key"
        assert case.status == "open"
        assert all(d.status == "draft" for d in case.documents)
