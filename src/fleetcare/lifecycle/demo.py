"""End-of-life demo data for `fleetcare demo`: customers owning devices of the demo products, a
plan for Thermostat T2 (support ends June 2027) whose 24- and 12-month notices already went out,
a plan for Smart Plug SP1 (support ended June 2025) with all its notices sent and its support end
recorded, and upstream kernel cycles so that the calendar warns about components.

The past notices are announced by the real scheduler at the moments they fell due; their
deliveries are then recorded as delivered at that time (nothing is sent from a demo).
"""

from __future__ import annotations

import datetime as dt
import json
import random

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fleetcare.core.auth import Principal
from fleetcare.core.settings import Settings
from fleetcare.lifecycle import rules, service
from fleetcare.lifecycle.models import Customer, NoticeDelivery
from fleetcare.lifecycle.schemas import PlanIn
from fleetcare.portfolio import service as portfolio

#: Linux release cycles with the end of life kernel.org projects for them (as of 2026).
UPSTREAM_CYCLES = {
    "linux": [
        {"cycle": "6.6", "eol": "2026-12-31", "latest": "6.6.58"},
        {"cycle": "6.1", "eol": "2027-12-31", "latest": "6.1.115"},
        {"cycle": "5.15", "eol": "2026-12-31", "latest": "5.15.170"},
        {"cycle": "5.4", "eol": "2025-12-31", "latest": "5.4.302"},
    ]
}

PLANS = {
    "Thermostat T2": PlanIn(
        upgrade_path=(
            "Thermostat T3 fits the same wall plate and wiring; the app moves schedules and rooms "
            "across when you pair the T3."
        ),
        transition_offer="Half price on a Thermostat T3 for T2 owners until the end of support.",
        decommissioning={
            "factory_reset": "Hold the dial pressed for 10 seconds until the display shows 'rES'.",
            "data_removal": "Remove the thermostat in the app; this deletes its schedules and "
            "history from our cloud.",
            "credential_revocation": "Removing it in the app revokes the device certificate; "
            "change the Wi-Fi password if others knew it.",
            "disposal": "Return it to a WEEE collection point; do not put it in household waste.",
        },
        annex_ii={
            "support_type": "Security updates, delivered automatically over the air.",
            "after_support": "The thermostat keeps controlling the heating on its own schedule, "
            "but vulnerabilities found after June 2027 will not be fixed. Disconnect it from the "
            "network or replace it.",
        },
    ),
    "Smart Plug SP1": PlanIn(
        milestones=[12, 6, 1],
        upgrade_path="No successor: any Matter-certified smart plug replaces it.",
        decommissioning={
            "factory_reset": "Hold the button for 15 seconds until the ring flashes red.",
            "disposal": "Return it to a WEEE collection point.",
        },
        annex_ii={"after_support": "No security updates since July 2025; unplug it."},
    ),
}


def _customers(session: Session, settings: Settings, actor: Principal) -> list[str]:
    rows = ["ref,name,kind,language,emails,channels"]
    for n in range(1, 41):
        business = n % 4 == 0
        language = "de" if n % 3 == 0 else "en"
        name = f"Facility Services {n} GmbH" if business else f"Household {n}"
        rows.append(
            f"C{n:04d},{name},{'business' if business else 'consumer'},{language},"
            f"owner{n}@customers.example,email"
        )
    service.import_customers_csv(session, "\n".join(rows) + "\n", actor=actor, settings=settings)
    return [f"C{n:04d}" for n in range(1, 41)]


def _devices(session: Session, refs: list[str], actor: Principal) -> int:
    chooser = random.Random(7)  # noqa: S311 - demo data, not security
    rows = ["device,customer,product,state"]
    for slug, prefix, count, retired in (
        ("thermostat-t2", "T2", 300, 0.05),
        ("smart-plug-sp1", "SP1", 120, 0.4),
        ("thermostat-t3", "T3", 200, 0.0),
    ):
        for n in range(count):
            state = "decommissioned" if chooser.random() < retired else "active"
            rows.append(f"{prefix}-{n:06d},{chooser.choice(refs)},{slug},{state}")
    service.import_devices_csv(session, "\n".join(rows) + "\n", actor=actor)
    return len(rows) - 1


def _past_notices(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Announce every milestone that fell due before `now`, at the time it fell due."""
    moments = []
    for plan in service.plans_by_product(session).values():
        product = portfolio.get_product(session, plan.product_id)
        for m in rules.schedule(
            product.support_end, plan.milestones, plan.send_hour, settings.timezone
        ):
            if m.due_at < now:
                moments.append(m.due_at + dt.timedelta(minutes=3))
    sent = 0
    for moment in sorted(moments):
        for notice_id in service.schedule_notices(session, settings, moment):
            session.execute(
                update(NoticeDelivery)
                .where(NoticeDelivery.notice_id == notice_id)
                .values(status="sent", attempts=1, claimed_at=moment, sent_at=moment)
            )
            service.finish_notice(session, notice_id, moment)
            sent += 1
    # Some customers followed the link in their notice.
    opened = session.execute(select(NoticeDelivery.id, NoticeDelivery.sent_at)).all()
    for delivery_id, sent_at in opened[::3]:
        if sent_at is None:
            continue
        session.execute(
            update(NoticeDelivery)
            .where(NoticeDelivery.id == delivery_id)
            .values(opened_at=sent_at + dt.timedelta(hours=5))
        )
    return sent


def load_demo(
    session: Session, *, actor: Principal, settings: Settings, now: dt.datetime | None = None
) -> list[str]:
    now = now or dt.datetime.now(dt.UTC)
    if session.execute(select(Customer.id).limit(1)).first() is not None:
        return ["end-of-life demo already loaded"]
    refs = _customers(session, settings, actor)
    devices = _devices(session, refs, actor)
    for name, plan in PLANS.items():
        service.save_plan(session, portfolio.get_product(session, name).id, plan, actor=actor)
    session.flush()
    notices = _past_notices(session, settings, now)
    service.record_support_ends(session, now)
    cycles = service.import_upstream(session, json.dumps(UPSTREAM_CYCLES), actor=actor)
    return [
        f"end of life: {len(refs)} customers owning {devices} devices, {len(PLANS)} plans, "
        f"{notices} notices already sent, {cycles} upstream kernel cycles"
    ]
