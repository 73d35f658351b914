"""The end-of-life part of `fleetcare demo`: a product near its support end with notices
already sent, one past it with its support end recorded, and upstream warnings."""

from __future__ import annotations

import datetime as dt

from fleetcare.demo import PRODUCTS
from fleetcare.lifecycle import demo, service
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ProductIn, ReleaseIn
from tests.lifecycle.conftest import SETUP


def test_demo_shows_notices_sent_and_a_product_past_support_end(database, eol_settings):
    now = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
    with database.session() as session:
        for template in PRODUCTS:
            if template["name"] not in ("Thermostat T2", "Thermostat T3", "Smart Plug SP1"):
                continue
            spec = {k: v for k, v in template.items() if k != "releases"}
            spec.pop("successor", None)
            product = portfolio.create_product(session, ProductIn.model_validate(spec), actor=SETUP)
            for version, day, kind in template["releases"]:
                portfolio.create_release(
                    session,
                    product.id,
                    ReleaseIn(version=version, release_date=day, kind=kind, status="released"),
                    actor=SETUP,
                )
        [line] = demo.load_demo(session, actor=SETUP, settings=eol_settings, now=now)
        session.commit()
        assert "40 customers owning 620 devices" in line
        assert demo.load_demo(session, actor=SETUP, settings=eol_settings, now=now) == [
            "end-of-life demo already loaded"
        ]
        rows = {r.product: r for r in service.calendar(session, eol_settings, now)}
        notices = service.list_notices(session)
    t2, sp1 = rows["Thermostat T2"], rows["Smart Plug SP1"]
    assert (t2.support_status, t2.notices_sent) == ("ending_soon", 2)
    assert t2.next_milestone is not None
    assert t2.next_milestone.months_before == 6
    assert (sp1.support_status, sp1.notices_sent) == ("ended", 3)
    assert sp1.out_of_support_devices == sp1.devices_in_field > 0
    assert {n.status for n in notices} == {"sent"}
    assert all(sum(n.deliveries.values()) == n.customers for n in notices)
