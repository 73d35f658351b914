"""End-of-life pages driven like a browser: the calendar, a plan saved through its form (with
its CSRF token), the delivery log, ceasing operations, and the public notice and support page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from fleetcare.core.auth import Role
from fleetcare.lifecycle import service
from fleetcare.lifecycle.models import NoticeDelivery
from fleetcare.web.rendering import CONTENT_SECURITY_POLICY
from tests.lifecycle.conftest import make_fleet
from tests.notify_support import jobs
from tests.web.conftest import forms_of, log_in

__all__ = ["log_in"]  # a fixture


@pytest.fixture
def fleet(database, settings):
    return make_fleet(
        database, settings, customers=2, devices_each=2, support_end=dt.date(2027, 9, 30)
    )


def test_the_calendar_shows_products_by_support_end_with_devices(
    client, log_in, fleet, database, settings
):
    make_fleet(database, settings, customers=0, name="Hub H9", support_end=dt.date(2033, 1, 31))
    log_in(client, Role.VIEWER)
    page = client.get("/eol")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    text = page.text
    assert text.index("Thermostat T1") < text.index("Hub H9")
    assert "September 2027" in text
    assert "January 2033" in text
    assert 'aria-current="page">End of life' in text
    assert "style=" not in text
    assert "<script" not in text


def test_a_product_manager_saves_a_plan_through_the_form(client, log_in, fleet):
    csrf = log_in(client, Role.PRODUCT)
    page = client.get(f"/eol/plans/{fleet.slug}")
    form = forms_of(page.text)[f"/eol/plans/{fleet.slug}"]
    assert form["csrf_token"] == csrf
    form.update(
        milestones="18, 6, 1",
        send_hour="8",
        upgrade_path="Order a T2 from the shop",
        decommissioning_data_removal="Delete the schedules in the app",
        end_of_sale="2026-12-31",
    )
    saved = client.post(f"/eol/plans/{fleet.slug}", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    shown = client.get(f"/eol/plans/{fleet.slug}").text
    assert "Order a T2 from the shop" in shown
    with client.app.state.db.session() as session:  # type: ignore[attr-defined]
        plan = service.plan_out(session, fleet.slug, client.app.state.settings)  # type: ignore[attr-defined]
    assert plan.milestones == [18, 6, 1]
    assert plan.end_of_sale == dt.date(2026, 12, 31)
    assert plan.decommissioning["data_removal"] == "Delete the schedules in the app"


def test_a_bad_plan_form_shows_the_problem_and_keeps_what_was_typed(client, log_in, fleet):
    log_in(client, Role.PRODUCT)
    form = forms_of(client.get(f"/eol/plans/{fleet.slug}").text)[f"/eol/plans/{fleet.slug}"]
    form.update(milestones="24, twelve", upgrade_path="Keep me")
    refused = client.post(f"/eol/plans/{fleet.slug}", data=form)
    assert refused.status_code == 422
    assert "whole months separated by commas" in refused.text
    assert "Keep me" in refused.text
    form.update(milestones="24", end_of_sale="2028-01-01")
    refused = client.post(f"/eol/plans/{fleet.slug}", data=form)
    assert refused.status_code == 422
    assert "after support end" in refused.text


def test_viewers_see_the_plan_but_cannot_change_it(client, log_in, fleet):
    log_in(client, Role.VIEWER)
    page = client.get(f"/eol/plans/{fleet.slug}")
    assert "Save plan" not in page.text
    assert "Send due notices now" not in page.text
    form = forms_of(page.text).get(f"/eol/plans/{fleet.slug}", {})
    assert client.post(f"/eol/plans/{fleet.slug}", data=form).status_code == 403


def test_sending_due_notices_from_the_plan_page_and_reading_the_log(
    client, log_in, fleet, database, settings, monkeypatch
):
    monkeypatch.setattr(service, "_send", lambda *args: None)
    csrf = log_in(client, Role.PRODUCT)
    with jobs(settings, database):
        sent = client.post(
            f"/eol/plans/{fleet.slug}/send", data={"csrf_token": csrf}, follow_redirects=False
        )
    assert sent.status_code == 303
    page = client.get(f"/eol/plans/{fleet.slug}").text
    assert "12 months before support end" in page
    assert "2 sent" in page
    log = client.get("/eol/deliveries", params={"product": fleet.slug, "status": "sent"}).text
    assert "owner1@example.test" in log
    assert "owner2@example.test" in log
    assert client.get("/eol/deliveries", params={"status": "lost"}).status_code == 422


def test_the_public_notice_and_the_link_that_records_opening(
    client, fleet, database, settings, monkeypatch
):
    monkeypatch.setattr(service, "_send", lambda *args: None)
    page = client.get(f"/end-of-life/{fleet.slug}")
    assert page.status_code == 200
    assert "ends in September 2027" in page.text
    assert "Hold the dial for 10 seconds." in page.text
    assert "30 % off a T2" in page.text
    assert "style=" not in page.text
    assert "<script" not in page.text
    support = client.get("/support").text
    assert f'href="/end-of-life/{fleet.slug}"' in support
    with database.session() as session:
        [notice_id] = service.schedule_notices(session, settings)
        session.commit()
        service.send_notice(session, notice_id, settings)
        token = session.execute(select(NoticeDelivery.read_token).limit(1)).scalar_one()
    followed = client.get(f"/end-of-life/read/{token}", follow_redirects=False)
    assert followed.headers["location"] == f"/end-of-life/{fleet.slug}"
    with database.session() as session:
        opened = [d for d in service.list_deliveries(session) if d.opened_at is not None]
    assert len(opened) == 1
    assert (
        client.get("/end-of-life/read/unknown", follow_redirects=False).headers["location"]
        == "/support"
    )
    assert client.get("/end-of-life/no-such-product").status_code == 404


def test_ceasing_operations_page_is_for_admins(client, log_in, fleet):
    log_in(client, Role.PRODUCT)
    assert client.get("/eol/cessation").status_code == 403
    csrf = log_in(client, Role.ADMIN)
    form = {
        "csrf_token": csrf,
        "effective_on": (dt.date.today() + dt.timedelta(days=60)).isoformat(),
        "authority_name": "Market surveillance",
        "authority_email": "msa@example.test",
        "reason": "Insolvency",
    }
    assert client.post("/eol/cessation", data=form, follow_redirects=False).status_code == 303
    page = client.get("/eol/cessation").text
    assert "Notice of ceasing operations under Article 13(23)" in page
    assert "Source code escrow" in page
    assert "/eol/cessation/1/send" in page


def test_customers_and_devices_are_imported_from_the_customers_page(client, log_in, fleet):
    log_in(client, Role.VIEWER)
    assert client.get("/eol/customers").status_code == 403
    csrf = log_in(client, Role.PRODUCT)
    page = client.get("/eol/customers")
    assert page.status_code == 200
    assert "c1" in page.text
    csv = "ref,name,emails,channels,webhook_url\nnew1,New One,n1@example.test,email;webhook,https://n1.example/hook\n"
    done = client.post(
        "/eol/customers/import",
        data={"csrf_token": csrf, "what": "customers"},
        files={"file": ("customers.csv", csv.encode(), "text/csv")},
    )
    assert done.status_code == 200
    assert "1 customers added, 0 updated." in done.text
    assert "new1: <code>whsec_" in done.text
    bad = client.post(
        "/eol/customers/import",
        data={"csrf_token": csrf, "what": "devices"},
        files={
            "file": (
                "devices.csv",
                b"device,customer,product\nx1,nobody,thermostat-t1\n",
                "text/csv",
            )
        },
    )
    assert bad.status_code == 422
    assert "line 2: no customer with reference" in bad.text
    devices = "device,customer,product\nx1,new1,thermostat-t1\nx2,new1,thermostat-t1\n"
    added = client.post(
        "/eol/customers/import",
        data={"csrf_token": csrf, "what": "devices"},
        files={"file": ("devices.csv", devices.encode(), "text/csv")},
    )
    assert "2 devices added" in added.text
    listed = client.get("/eol/customers", params={"q": "new one"}).text
    assert "New One" in listed
    assert "Customer 1" not in listed
    forged = client.post(
        "/eol/customers/import",
        data={"csrf_token": "forged", "what": "devices"},
        files={"file": ("devices.csv", devices.encode(), "text/csv")},
    )
    assert forged.status_code == 403
