"""The public intake under abuse: huge bodies, markup, floods and guessed status links.

Each refusal is checked for what a user notices (the status code and the message) and for what
must not happen (nothing stored, nobody mailed, honest reporters unaffected).
"""

from __future__ import annotations

import base64
import secrets

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fleetcare.disclosure.models import Report
from tests.disclosure.conftest import report_fields, submit

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def reports_count(database) -> int:
    with database.session() as session:
        return session.execute(select(func.count(Report.id))).scalar_one()


@pytest.fixture
def settings(settings):
    # A small attachment limit keeps the bodies in these tests small.
    return settings.model_copy(update={"report_attachment_max_bytes": 4096})


def test_a_body_declared_too_large_is_refused_before_it_is_read(client, database, mail):
    huge = b'{"description": "' + b"A" * 400_000 + b'"}'
    response = client.post("/api/v1/public/reports", content=huge,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"].startswith("the request is larger than")
    assert response.json()["detail"]["max_bytes"] < 400_000
    assert reports_count(database) == 0
    assert mail.messages == []


def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(client, database):
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"description": "'
        for _ in range(100):
            yield b"B" * 8192
        yield b'"}'

    response = client.post("/api/v1/public/reports", content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert reports_count(database) == 0


def test_an_attachment_over_the_limit_is_refused_whole(client, database, mail):
    big = base64.b64encode(b"\0" * 5000).decode()
    response = submit(client, attachment={"filename": "dump.bin", "content_base64": big})
    assert response.status_code == 413
    assert "attachment is larger than 4096 bytes" in response.json()["error"]
    assert reports_count(database) == 0
    assert mail.messages == []
    fits = submit(client, attachment={"filename": "ok.bin",
                                      "content_base64": base64.b64encode(b"\1" * 4096).decode()})
    assert fits.status_code == 201


def test_broken_base64_is_a_clear_error(client, database):
    response = submit(client, attachment={"filename": "x", "content_base64": "%%%not base64"})
    assert response.status_code == 422
    assert "not valid base64" in response.json()["error"]
    assert reports_count(database) == 0


@pytest.mark.parametrize(
    ("field", "size"),
    [("description", 20001), ("title", 201), ("reporter_contact", 301), ("impact", 5001),
     ("openpgp_key", 20001), ("website", 501)],
)
def test_each_field_has_a_size_limit(client, database, field, size):
    response = submit(client, **{field: "-----BEGIN PGP PUBLIC KEY BLOCK-----" + "x" * size})
    assert response.status_code == 422
    assert field in response.json()["error"]
    assert reports_count(database) == 0


def test_markup_is_stored_as_text_and_mail_is_plain_text(client, psirt, mail):
    receipt = submit(client, title=SCRIPT, description=SCRIPT, reporter_name=SCRIPT,
                     product=SCRIPT).json()

    detail = client.get(f"/api/v1/reports/{receipt['tracking_id']}", headers=psirt)

    assert detail.headers["content-type"] == "application/json"
    assert detail.json()["title"] == SCRIPT  # kept exactly; every page escapes it
    assert all(m.get_content_type() == "text/plain" for m in mail.messages)
    assert all(not m.is_multipart() for m in mail.messages)


def test_flooding_gets_429_while_other_reporters_lose_nothing(app, database, settings, wired):
    app.state.settings = settings.model_copy(update={"report_rate_limit": 3})
    flood = TestClient(app, client=("203.0.113.9", 40000))
    honest = TestClient(app, client=("198.51.100.7", 40001))

    answers = [flood.post("/api/v1/public/reports", json=report_fields()) for _ in range(6)]
    codes = [a.status_code for a in answers]
    other = honest.post("/api/v1/public/reports", json=report_fields())

    assert codes == [201, 201, 201, 429, 429, 429]
    limited = answers[-1]
    assert int(limited.headers["retry-after"]) > 0
    assert "too many reports from your address" in limited.json()["error"]
    assert other.status_code == 201
    assert reports_count(database) == 4  # every report that was answered 201, no more


def test_refused_forms_do_not_use_up_an_honest_reporters_quota(app, database, settings, wired):
    app.state.settings = settings.model_copy(update={"report_rate_limit": 2})
    reporter = TestClient(app, client=("198.51.100.8", 40002))
    for _ in range(5):  # typos: refused before anything is counted
        assert reporter.post("/api/v1/public/reports",
                             json=report_fields(description="")).status_code == 422
    assert reporter.post("/api/v1/public/reports", json=report_fields()).status_code == 201
    assert reporter.post("/api/v1/public/reports", json=report_fields()).status_code == 201
    assert reports_count(database) == 2


@pytest.mark.parametrize(
    "token",
    [
        "q4Rk0vXbE1mN8sTzY2wL7pHcJ9uF3aGdK6iO5eWyQxS",  # well-formed (fixed, so that parallel workers collect the same ids), but nobody's
        "A" * 43,
        "../../etc/passwd",
        "",
        "x' OR '1'='1",
        "%00",
    ],
)
def test_a_guessed_status_link_finds_nothing(client, token):
    submit(client)  # a report exists; guessing must not find it

    api = client.get("/api/v1/public/reports/status", params={"token": token})
    page = client.get("/security/report/status", params={"token": token})
    reply = client.post("/api/v1/public/reports/status/messages",
                        json={"token": token, "body": "hello"})

    assert api.status_code == 404
    assert api.json()["error"] == (
        "no report for this status link; check that you copied the whole link"
    )
    assert reply.status_code == 404
    assert page.status_code == 404
    assert "no report for this status link" in page.text
    assert "VR-" not in page.text


def test_status_link_lookups_are_rate_limited(app, settings):
    app.state.settings = settings.model_copy(update={"public_rate_limit": 5})
    guesser = TestClient(app, client=("203.0.113.66", 40003))
    codes = [guesser.get("/api/v1/public/reports/status",
                         params={"token": secrets.token_urlsafe(32)}).status_code
             for _ in range(7)]
    assert codes == [404] * 5 + [429] * 2
