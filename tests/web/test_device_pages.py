"""The device registry pages: the list with its filters, sorting and pages, one device with its
assignments, and decommissioning and the security-update setting from the page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from fleetcare.core.auth import Role
from fleetcare.core.db import utcnow
from fleetcare.core.models import AuditEvent
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ProductIn
from fleetcare.updates import devices, rollouts
from fleetcare.updates.models import Device
from fleetcare.updates.schemas import DeviceIn, RolloutIn, WaveIn
from tests.updates.conftest import ACTOR, SECRET, Fleet, make_fleet, register
from tests.web.conftest import audit_count, forms_of, table_rows

REGISTRY = "/updates/devices"
DASH = "\N{EN DASH}"  # between the first and last device of a page


@pytest.fixture
def fleet(database, settings, tmp_path) -> Fleet:  # type: ignore[no-untyped-def]
    return make_fleet(database, settings, tmp_path)


def listed(client, query: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    """The device ids the registry shows for `query`, in order."""
    page = client.get(f"{REGISTRY}?{query}" if query else REGISTRY)
    assert page.status_code == 200, page.text
    return [row[0] for row in table_rows(page.text, "devices-table") if len(row) > 1]


def change(database, uid: str, **values: Any) -> None:  # type: ignore[no-untyped-def]
    with database.session() as session:
        session.execute(update(Device).where(Device.uid == uid).values(**values))
        session.commit()


def stored(database, uid: str) -> Device:  # type: ignore[no-untyped-def]
    with database.session() as session:
        device = devices.get_device(session, uid)
        session.expunge(device)
        return device


def events(database, action: str) -> int:  # type: ignore[no-untyped-def]
    with database.session() as session:
        return session.execute(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == action)
        ).scalar_one()


# --- the list ------------------------------------------------------------------------------


def test_the_registry_shows_100_devices_a_page_with_the_total(client, database, fleet, log_in):
    register(database, [f"dev-{i:03d}" for i in range(120)])
    log_in(client, Role.VIEWER)

    first = client.get(REGISTRY)

    assert first.status_code == 200
    assert "120 devices registered" in first.text
    assert f"1{DASH}100 of 120" in first.text
    rows = listed(client)
    assert rows == [f"dev-{i:03d}" for i in range(100)]
    assert 'href="/updates/devices?page=2#devices"' in first.text
    assert "<script" not in first.text
    assert not re.search(r"\sstyle=", first.text)
    second = client.get(f"{REGISTRY}?page=2")
    assert f"101{DASH}120 of 120" in second.text
    assert '<strong aria-current="page">2</strong>' in second.text
    assert listed(client, "page=2") == [f"dev-{i:03d}" for i in range(100, 120)]
    assert listed(client, "page=99") == listed(client, "page=2")  # past the end: the last page
    assert listed(client, "page=x") == rows
    filtered = client.get(f"{REGISTRY}?uid=dev-1&sort=-uid")
    assert "20 devices match the filters" in filtered.text
    assert 'aria-label="device pages"' not in filtered.text  # one page: no page links
    assert listed(client, "uid=dev-1&sort=-uid") == [f"dev-{i:03d}" for i in range(119, 99, -1)]
    # exactly one full page: page 2 does not exist and shows page 1
    assert listed(client, "uid=dev-0&page=2") == rows


def test_page_links_keep_the_filters(client, database, fleet, log_in):
    register(database, [f"dev-{i:03d}" for i in range(250)], groups=["north"])
    log_in(client, Role.VIEWER)

    page = client.get(f"{REGISTRY}?group=north&sort=-uid&page=2")

    assert f"101{DASH}200 of 250" in page.text
    assert 'href="/updates/devices?group=north&amp;sort=-uid&amp;page=3#devices"' in page.text
    assert 'href="/updates/devices?group=north&amp;sort=-uid#devices" rel="prev"' in page.text
    assert listed(client, "group=north&sort=-uid&page=3") == [
        f"dev-{i:03d}" for i in range(49, -1, -1)
    ]


@pytest.fixture
def varied(database, fleet) -> None:  # type: ignore[no-untyped-def]
    """Devices of two products, customers, groups, tags, states and versions."""
    register(database, ["a-1", "a-2"], groups=["north", 'Zürich "Ost"'], customer="ACME")
    register(database, ["b-1"], groups=["south"], customer="Globex")
    register(database, ["c-1"])
    change(database, "a-1", tags=["pilot"], state="active", installed_version="1.0.0")
    change(database, "a-1", installed_counter=1)
    change(database, "b-1", state="decommissioned", tags=["pilot-2"])
    with database.session() as session:
        portfolio.create_product(
            session,
            ProductIn(
                name="Sensor", placed_on_market=dt.date(2025, 1, 1), support_end=dt.date(2031, 1, 1)
            ),
            actor=ACTOR,
        )
        devices.import_factory_list(
            session, "sensor", [DeviceIn(uid="s-1", secret=SECRET, customer="ACME")], actor=ACTOR
        )
        session.commit()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["a-1", "a-2", "b-1", "c-1", "s-1"]),
        ("product=sensor", ["s-1"]),
        ("product=gateway", ["a-1", "a-2", "b-1", "c-1"]),
        ("state=active", ["a-1"]),
        ("state=decommissioned", ["b-1"]),
        ("state=preauthorised", ["a-2", "c-1", "s-1"]),
        ("version=1.0.0", ["a-1"]),
        ("version=1.0", []),  # exact, not a prefix
        ("customer=ACME", ["a-1", "a-2", "s-1"]),
        ("customer=AC", []),
        ("group=north", ["a-1", "a-2"]),
        ("group=nort", []),  # one whole label, not a substring of the JSON
        ("group=Z%C3%BCrich+%22Ost%22", ["a-1", "a-2"]),
        ("tag=pilot", ["a-1"]),  # not pilot-2
        ("uid=a-", ["a-1", "a-2"]),
        ("uid=A-", ["a-1", "a-2"]),  # ignoring case
        ("uid=%25", []),  # LIKE wildcards are matched as themselves
        ("uid=_-1", []),
        ("customer=ACME&state=preauthorised&product=gateway", ["a-2"]),
    ],
)
def test_each_filter(client, database, varied, log_in, query, expected):
    log_in(client, Role.VIEWER)
    assert listed(client, query) == expected


def test_the_filter_form_shows_the_chosen_filters(client, database, varied, log_in):
    log_in(client, Role.VIEWER)

    page = client.get(f"{REGISTRY}?customer=ACME&state=active&product=gateway")

    fields = forms_of(page.text)[REGISTRY]
    assert fields["customer"] == "ACME"
    assert fields["state"] == "active"
    assert fields["product"] == "gateway"
    assert "1 device match the filters" in page.text
    assert "Clear filters" in page.text


def test_unreadable_filters_are_dropped_and_named(client, database, varied, log_in):
    log_in(client, Role.VIEWER)

    page = client.get(f"{REGISTRY}?state=broken&product=nope&not_seen_days=-3&sort=size")

    assert page.status_code == 200
    assert "Some filters were ignored" in page.text
    assert "State: “broken” is not one of preauthorised, active, decommissioned" in page.text
    assert "Product: no product &#39;nope&#39;; showing every product" in page.text
    assert "Not seen for more than: “-3” is not a number of days" in page.text
    assert "Sort: “size” is not one of" in page.text
    assert len(listed(client, "state=broken&product=nope")) == 5


def test_devices_not_seen_for_more_than_n_days(client, database, fleet, log_in):
    register(database, ["x-fresh", "x-old", "x-never", "x-new"])
    now = utcnow()
    change(database, "x-fresh", last_checkin_at=now - dt.timedelta(days=1))
    change(database, "x-old", last_checkin_at=now - dt.timedelta(days=10))
    change(database, "x-never", created_at=now - dt.timedelta(days=30))
    log_in(client, Role.VIEWER)

    assert listed(client, "not_seen_days=7") == ["x-never", "x-old"]
    assert listed(client, "not_seen_days=20") == ["x-never"]
    assert listed(client, "not_seen_days=7&uid=x-o") == ["x-old"]
    page = client.get(f"{REGISTRY}?not_seen_days=7")
    assert "10 days ago" in page.text
    assert (now - dt.timedelta(days=10)).strftime("%Y-%m-%d %H:%M UTC") in page.text
    assert "never" in page.text


def test_sorting_by_uid_and_last_check_in(client, database, fleet, log_in):
    register(database, ["m-1", "m-2", "m-3", "m-4"])
    now = utcnow()
    change(database, "m-1", last_checkin_at=now - dt.timedelta(hours=5))
    change(database, "m-2", last_checkin_at=now - dt.timedelta(hours=1))
    change(database, "m-4", last_checkin_at=now - dt.timedelta(days=3))
    log_in(client, Role.VIEWER)

    assert listed(client) == ["m-1", "m-2", "m-3", "m-4"]
    assert listed(client, "sort=-uid") == ["m-4", "m-3", "m-2", "m-1"]
    assert listed(client, "sort=-last_checkin") == ["m-2", "m-1", "m-4", "m-3"]  # never: last
    assert listed(client, "sort=last_checkin") == ["m-3", "m-4", "m-1", "m-2"]  # never: first
    page = client.get(f"{REGISTRY}?sort=-last_checkin")
    assert 'aria-sort="descending"' in page.text
    assert 'href="/updates/devices?sort=last_checkin#devices"' in page.text  # flips the order


# --- one device ----------------------------------------------------------------------------


def _running_rollout(database) -> int:  # type: ignore[no-untyped-def]
    register(database, [f"dev-{i}" for i in range(5)], groups=["north"], customer="ACME")
    with database.session() as session:
        rollout = rollouts.create(
            session,
            RolloutIn(
                name="Security fix 2.0.0",
                product="gateway",
                version="2.0.0",
                waves=[WaveIn(percent=100)],
            ),
            actor=ACTOR,
        )
        rollouts.start(session, rollout.id, actor=ACTOR)
        session.execute(
            update(Device).values(state="active", installed_version="1.0.0", installed_counter=1)
        )
        session.commit()
        return rollout.id


def test_the_device_page_shows_the_registry_and_the_assignments(client, database, fleet, log_in):
    rollout_id = _running_rollout(database)
    change(database, "dev-1", last_checkin_at=utcnow() - dt.timedelta(hours=2))
    log_in(client, Role.VIEWER)

    registry = client.get(REGISTRY)
    row = table_rows(registry.text, "devices-table")[1]
    assert row[0] == "dev-1"
    assert "Security fix 2.0.0 2.0.0 pending" in row[-1]
    assert f'href="/updates/rollouts/{rollout_id}"' in registry.text
    assert 'href="/updates/devices/dev-1"' in registry.text
    assert "2 hours ago" in row[-2]

    page = client.get("/updates/devices/dev-1")

    assert page.status_code == 200
    assert "<h1>dev-1</h1>" in page.text
    for text in ("Gateway", "ACME", "north", "1.0.0", "release counter 1", "2 hours ago"):
        assert text in page.text
    assert "factory secret, not used yet" in page.text
    assignments = table_rows(page.text, "assignments")
    assert len(assignments) == 1
    assert assignments[0][:4] == ["Security fix 2.0.0 running", "2.0.0", "1", "pending (open)"]
    # a viewer reads, but gets no forms
    assert "/decommission" not in page.text
    assert "/update-settings" not in page.text
    assert not re.search(r"\sstyle=|<script|\son[a-z]+=", page.text)


def test_the_assignment_detail_is_shown_as_an_excerpt(client, database, fleet, log_in):
    _running_rollout(database)
    from fleetcare.updates.models import Assignment

    with database.session() as session:
        device_id = session.execute(select(Device.id).where(Device.uid == "dev-2")).scalar_one()
        session.execute(
            update(Assignment)
            .where(Assignment.device_id == device_id)
            .values(status="failure", detail="flash write failed " + "x" * 300 + " END")
        )
        session.commit()
    log_in(client, Role.VIEWER)

    page = client.get("/updates/devices/dev-2")

    row = table_rows(page.text, "assignments")[0]
    assert row[3] == "failure"  # finished: not open
    assert "<details" in page.text
    assert row[4].startswith("flash write failed x")
    assert "END" in row[4]  # the whole detail, behind the summary
    registry_row = table_rows(client.get(REGISTRY).text, "devices-table")[2]
    assert registry_row[0] == "dev-2"
    assert registry_row[-1] == "—"  # no open assignment


def test_an_unknown_device_is_not_found(client, database, fleet, log_in):
    csrf = log_in(client, Role.RELEASE)

    page = client.get("/updates/devices/no-such-device")

    assert page.status_code == 404
    assert "Not found" in page.text
    assert "no device &#39;no-such-device&#39;" in page.text
    refused = client.post(
        "/updates/devices/no-such-device/decommission",
        data={"csrf_token": csrf, "confirm": "1"},
        follow_redirects=False,
    )
    assert refused.status_code == 404


# --- decommissioning -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SECURITY, Role.PRODUCT])
def test_other_roles_cannot_decommission(client, database, fleet, log_in, role):
    register(database, ["dev-1"])
    csrf = log_in(client, role)
    before = audit_count(database)

    response = client.post(
        "/updates/devices/dev-1/decommission",
        data={"csrf_token": csrf, "confirm": "1"},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert stored(database, "dev-1").state == "preauthorised"
    assert audit_count(database) == before


def test_decommissioning_needs_the_csrf_token_and_the_confirmation(client, database, fleet, log_in):
    register(database, ["dev-1"])
    csrf = log_in(client, Role.RELEASE)
    before = audit_count(database)

    without_token = client.post(
        "/updates/devices/dev-1/decommission", data={"confirm": "1"}, follow_redirects=False
    )
    wrong_token = client.post(
        "/updates/devices/dev-1/decommission",
        data={"csrf_token": "forged", "confirm": "1"},
        follow_redirects=False,
    )
    unconfirmed = client.post(
        "/updates/devices/dev-1/decommission", data={"csrf_token": csrf}, follow_redirects=False
    )

    assert without_token.status_code == 403
    assert wrong_token.status_code == 403
    assert unconfirmed.status_code == 422
    assert "to confirm; nothing was changed" in unconfirmed.text
    assert stored(database, "dev-1").state == "preauthorised"
    assert audit_count(database) == before


@pytest.mark.parametrize("role", [Role.RELEASE, Role.ADMIN])
def test_a_release_manager_decommissions_a_device_from_its_page(
    client, database, fleet, log_in, role
):
    register(database, ["dev-1", "dev-2"])
    log_in(client, role)
    page = client.get("/updates/devices/dev-1")
    form = forms_of(page.text)["/updates/devices/dev-1/decommission"]
    assert "confirm" not in form  # the box starts unticked
    assert 'name="confirm" value="1" required' in page.text

    done = client.post(
        "/updates/devices/dev-1/decommission", data={**form, "confirm": "1"}, follow_redirects=False
    )

    assert done.status_code == 303
    assert done.headers["location"] == "/updates/devices/dev-1?done=decommissioned"
    after = client.get(done.headers["location"])
    assert "The device was decommissioned" in after.text
    assert "/decommission" not in after.text  # nothing left to do
    assert "none (requests are refused)" in after.text
    device = stored(database, "dev-1")
    assert (device.state, device.secret_hash, device.public_key) == ("decommissioned", None, None)
    assert stored(database, "dev-2").state == "preauthorised"
    assert events(database, "device.decommission") == 1
    assert listed(client, "state=decommissioned") == ["dev-1"]


# --- the security-update setting -----------------------------------------------------------


def test_the_security_update_setting_is_saved_from_the_page(client, database, fleet, log_in):
    register(database, ["dev-1"])
    log_in(client, Role.RELEASE)
    page = client.get("/updates/devices/dev-1")
    form = forms_of(page.text)["/updates/devices/dev-1/update-settings"]
    assert form["security_updates"] == "automatic"
    assert form["postponed_until"] == ""
    until = utcnow().date() + dt.timedelta(days=10)

    done = client.post(
        "/updates/devices/dev-1/update-settings",
        data={**form, "security_updates": "opt_out", "postponed_until": until.isoformat()},
        follow_redirects=False,
    )

    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "security-update setting was saved" in after.text
    assert f"opted out, postponed until {until}" in after.text
    device = stored(database, "dev-1")
    assert (device.security_updates, device.postponed_until) == ("opt_out", until)
    assert events(database, "device.update_settings") == 1
    assert forms_of(after.text)["/updates/devices/dev-1/update-settings"]["security_updates"] == (
        "opt_out"
    )
    back = client.post(
        "/updates/devices/dev-1/update-settings",
        data={**form, "security_updates": "automatic", "postponed_until": ""},
        follow_redirects=False,
    )
    assert back.status_code == 303
    device = stored(database, "dev-1")
    assert (device.security_updates, device.postponed_until) == ("automatic", None)


def test_a_postponement_beyond_the_maximum_is_refused_on_the_page(
    client, database, settings, fleet, log_in
):
    register(database, ["dev-1"])
    csrf = log_in(client, Role.RELEASE)
    today = utcnow().date()
    too_late = today + dt.timedelta(days=settings.security_postpone_max_days + 1)
    before = audit_count(database)

    refused = client.post(
        "/updates/devices/dev-1/update-settings",
        data={
            "csrf_token": csrf,
            "security_updates": "automatic",
            "postponed_until": str(too_late),
        },
        follow_redirects=False,
    )

    assert refused.status_code == 422
    assert '<div class="error" role="alert">' in refused.text
    assert (
        f"a security update may be postponed by at most {settings.security_postpone_max_days} days"
        in refused.text
    )
    assert "Traceback" not in refused.text
    # the form comes back with what was sent, nothing was stored
    assert forms_of(refused.text)["/updates/devices/dev-1/update-settings"]["postponed_until"] == (
        str(too_late)
    )
    device = stored(database, "dev-1")
    assert (device.security_updates, device.postponed_until) == ("automatic", None)
    assert audit_count(database) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"security_updates": "sometimes"}, "Security updates: Input should be"),
        ({"security_updates": "automatic", "postponed_until": "soon"}, "Postponed until: "),
        ({"security_updates": "automatic", "postponed_until": "2001-01-01"}, "after today"),
    ],
)
def test_an_unreadable_setting_is_refused_on_the_page(
    client, database, fleet, log_in, fields, message
):
    register(database, ["dev-1"])
    csrf = log_in(client, Role.RELEASE)

    refused = client.post(
        "/updates/devices/dev-1/update-settings", data={"csrf_token": csrf, **fields}
    )

    assert refused.status_code == 422
    assert message in refused.text
    assert stored(database, "dev-1").security_updates == "automatic"


def test_the_setting_form_is_refused_to_viewers_and_without_a_token(
    client, database, fleet, log_in
):
    register(database, ["dev-1"])
    viewer_csrf = log_in(client, Role.VIEWER)
    fields = {"security_updates": "opt_out", "postponed_until": ""}
    assert (
        client.post(
            "/updates/devices/dev-1/update-settings", data={"csrf_token": viewer_csrf, **fields}
        ).status_code
        == 403
    )
    log_in(client, Role.RELEASE)
    assert client.post("/updates/devices/dev-1/update-settings", data=fields).status_code == 403
    assert stored(database, "dev-1").security_updates == "automatic"


# --- markup --------------------------------------------------------------------------------

UID = '<script>alert("uid")'
CUSTOMER = "<script>alert(1)</script>"
GROUP = "<img src=x onerror=alert(2)>"


def test_markup_in_a_device_is_shown_as_text(client, database, fleet, log_in):
    with database.session() as session:  # the API refuses such a uid; the page must cope anyway
        session.execute(
            insert(Device).values(
                uid=UID,
                product_id=fleet.product_id,
                customer=CUSTOMER,
                groups=[GROUP],
                tags=["<b>"],
                state="preauthorised",
                installed_version="<i>1</i>",
                hardware_revision="<u>r</u>",
                created_at=utcnow(),
            )
        )
        session.commit()
    log_in(client, Role.RELEASE)

    registry = client.get(REGISTRY).text
    page = client.get(f"{REGISTRY}/%3Cscript%3Ealert(%22uid%22)")

    assert page.status_code == 200
    for html in (registry, page.text):
        assert "<script" not in html
        assert "<img" not in html
        assert "<b>" not in html
        assert "<i>1" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>Device &lt;script&gt;alert(&#34;uid&#34;) · fleetcare</title>" in page.text
    # the links and form actions carry the uid encoded, and lead back to the device
    assert 'href="/updates/devices/%3Cscript%3Ealert%28%22uid%22%29"' in registry
    assert client.get(f"{REGISTRY}?customer={CUSTOMER}").status_code == 200
    assert listed(client, "customer=%3Cscript%3Ealert(1)%3C%2Fscript%3E") == [
        f"{UID} rev. <u>r</u>"
    ]
    action = next(a for a in forms_of(page.text) if a.endswith("/decommission"))
    form = forms_of(page.text)[action]
    done = client.post(action, data={**form, "confirm": "1"}, follow_redirects=False)
    assert done.status_code == 303
    assert stored(database, UID).state == "decommissioned"
