"""/.well-known/security.txt as RFC 9116 asks, kept current, and warned about before it lapses."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pydantic import ValidationError

from fleetcare.core.auth import Role, system_principal
from fleetcare.core.db import utcnow
from fleetcare.core.settings import Settings
from fleetcare.disclosure import service, tasks
from fleetcare.disclosure.models import SecurityTxtReview
from tests.notify_support import WebhookReceiver


def fields(text: str) -> list[tuple[str, str]]:
    found = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, sep, value = line.partition(": ")
            assert sep, f"not a field line: {line!r}"
            found.append((name, value))
    return found


def expires(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(dict(fields(text))["Expires"].replace("Z", "+00:00"))


def test_the_file_has_the_fields_rfc_9116_asks_for(client):
    response = client.get("/.well-known/security.txt")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    found = fields(response.text)
    names = [name for name, _ in found]
    assert names.count("Expires") == 1
    contacts = [value for name, value in found if name == "Contact"]
    assert contacts == ["mailto:security@fleetcare.test",
                        "https://psirt.example.com/security/report"]
    values = dict(found)
    assert values["Canonical"] == "https://psirt.example.com/.well-known/security.txt"
    assert values["Policy"] == "https://psirt.example.com/security/policy"
    assert values["Acknowledgments"] == "https://psirt.example.com/security/acknowledgments"
    assert values["Preferred-Languages"] == "en"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", values["Expires"])
    left = expires(response.text) - utcnow()
    assert dt.timedelta(days=179) < left < dt.timedelta(days=365)  # under a year, as required
    assert response.text.endswith("\n")


def test_optional_fields_come_from_the_settings(app, client, settings):
    app.state.settings = settings.model_copy(update={
        "security_encryption_url": "https://psirt.example.com/pgp-key.txt",
        "security_csaf_url": "https://psirt.example.com/.well-known/csaf/provider-metadata.json",
        "security_hiring_url": "https://jobs.example.com/psirt",
        "security_languages": ["en", "de"],
        "security_contacts": ["tel:+49-30-1234567"],
    })
    values = fields(client.get("/.well-known/security.txt").text)
    assert ("Encryption", "https://psirt.example.com/pgp-key.txt") in values
    assert ("CSAF", "https://psirt.example.com/.well-known/csaf/provider-metadata.json") in values
    assert ("Hiring", "https://jobs.example.com/psirt") in values
    assert ("Preferred-Languages", "en, de") in values
    assert ("Contact", "tel:+49-30-1234567") in values


def test_expires_stays_put_until_the_content_changes_or_someone_renews_it(app, client,
                                                                        settings, tokens):
    first = expires(client.get("/.well-known/security.txt").text)
    assert expires(client.get("/.well-known/security.txt").text) == first

    app.state.settings = settings.model_copy(update={"security_email": "psirt@fleetcare.test"})
    changed = client.get("/.well-known/security.txt").text
    assert "mailto:psirt@fleetcare.test" in changed
    assert expires(changed) >= first

    renewed = client.post("/api/v1/security-txt/renew", headers=tokens.headers(Role.SECURITY))
    assert renewed.status_code == 200
    assert renewed.json()["reviewed_by"] == "security@example.test (token 2)"
    assert client.post("/api/v1/security-txt/renew",
                       headers=tokens.headers(Role.VIEWER)).status_code == 403


def test_the_top_level_location_redirects(client):
    response = client.get("/security.txt", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/.well-known/security.txt"


def test_the_team_is_warned_once_before_it_lapses_and_once_when_it_has(
    database, settings, tokens, mail, wired
):
    receiver = WebhookReceiver()
    try:
        with database.session() as session:
            from fleetcare.core import notify

            _hook, receiver.secret = notify.create_webhook(
                session, name="ops", url=receiver.url, events=["security_txt.*"],
                actor=system_principal("tests"), settings=settings)
            service.security_txt(session, settings)
            session.commit()
        assert tasks.warn_before_security_txt_lapses.call_local() == 0  # 180 days left

        with database.session() as session:
            review = service.latest_review(session)
            review.expires_at = utcnow() + dt.timedelta(days=10)
            session.commit()
        assert tasks.warn_before_security_txt_lapses.call_local() == 2  # one email, one webhook
        assert tasks.warn_before_security_txt_lapses.call_local() == 0  # not again
        [warning] = mail.to("security@example.test")
        assert warning["Subject"] == "security.txt expires soon: review and renew it"
        assert "fleetcare security-txt renew" in warning.get_content()
        assert receiver.calls[0].json["event"] == "security_txt.expiring"
        assert receiver.calls[0].signature_ok

        with database.session() as session:
            review = service.latest_review(session)
            review.expires_at = utcnow() - dt.timedelta(minutes=1)
            session.commit()
        assert tasks.warn_before_security_txt_lapses.call_local() == 2
        assert tasks.warn_before_security_txt_lapses.call_local() == 0
        assert mail.to("security@example.test")[-1]["Subject"] == (
            "security.txt has EXPIRED: renew it")
    finally:
        receiver.stop()


def test_a_renewal_starts_a_new_review(database, settings):
    with database.session() as session:
        _text, first = service.security_txt(session, settings)
        renewed = service.renew_security_txt(session, settings, actor=system_principal("t"),
                                             now=utcnow() + dt.timedelta(days=100))
        session.commit()
        assert renewed.id != first.id
        assert renewed.expires_at - first.expires_at >= dt.timedelta(days=99)
        assert session.query(SecurityTxtReview).count() == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"security_contacts": ["mailto:a@b.c\nContact: mailto:evil@x"]},
        {"security_email": "a@b.c\r\nExpires: 2099-01-01T00:00:00Z"},
        {"security_txt_valid_days": 365},
        {"security_languages": ["en\nHiring: https://evil"]},
    ],
)
def test_settings_cannot_break_the_file(changes):
    with pytest.raises(ValidationError):
        Settings(**changes)
