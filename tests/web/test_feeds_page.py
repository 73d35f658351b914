"""The vulnerability feeds page and its "sync now" buttons."""

from __future__ import annotations

import pytest

from fleetcare.intel import tasks
from tests.web.conftest import forms_of, table_rows


@pytest.fixture
def queued(monkeypatch) -> list[str]:
    """Sources whose online sync was queued (the job itself would download whole feeds)."""
    sources: list[str] = []
    monkeypatch.setattr(tasks, "sync_feed_online", sources.append)
    return sources


def test_each_source_shows_its_last_sync_records_and_status(client, feeds_loaded, log_in):
    log_in(client, "viewer")

    page = client.get("/feeds").text

    rows = {row[0].split(" ", 1)[0]: row for row in table_rows(page, "feeds")}
    assert list(rows) == ["OSV", "NVD", "CVE", "ENISA", "CISA", "FIRST"]
    nvd = rows["NVD"]
    assert nvd[1].startswith("just now")
    assert nvd[1].endswith("UTC")
    assert nvd[2:5] == ["6", "ok", "2025-10-21 23:16 UTC"]
    assert rows["CISA"][2:4] == ["4", "ok"]
    assert rows["CVE"][1:4] == ["never", "—", "not synced"]
    tiles = page.split('aria-label="the vulnerability store"', 1)[1].split("</ul>", 1)[0]
    assert '<span class="count">7</span> vulnerabilities' in tiles
    assert '<span class="count">4</span> known exploited (KEV)' in tiles


def test_security_analysts_queue_a_sync(client, feeds_loaded, log_in, queued):
    log_in(client, "security")
    page = client.get("/feeds").text
    form = forms_of(page)["/feeds/kev/sync"]

    response = client.post("/feeds/kev/sync", data=form, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/feeds?queued=kev"
    assert queued == ["kev"]
    assert "A CISA KEV sync was queued." in client.get("/feeds?queued=kev").text


def test_a_queued_notice_names_only_real_sources(client, feeds_loaded, log_in):
    log_in(client, "viewer")
    assert "was queued" not in client.get("/feeds?queued=<b>evil</b>").text


def test_an_unknown_source_is_not_found(client, feeds_loaded, log_in, queued):
    csrf = log_in(client, "admin")
    response = client.post("/feeds/nope/sync", data={"csrf_token": csrf})
    assert response.status_code == 404
    assert queued == []


@pytest.mark.parametrize("role", ["viewer", "release", "product"])
def test_only_security_and_admin_see_sync_buttons(client, feeds_loaded, log_in, role):
    log_in(client, role)
    page = client.get("/feeds").text
    assert "/sync" not in page
    assert "Sync CISA KEV now" not in page


def test_admins_see_a_button_per_source(client, feeds_loaded, log_in):
    log_in(client, "admin")
    actions = [a for a in forms_of(client.get("/feeds").text) if a.endswith("/sync")]
    assert actions == [f"/feeds/{s}/sync" for s in ("osv", "nvd", "cve", "euvd", "kev", "epss")]
