"""Helpers for end-of-life tests: a product with a plan, customers on every channel, and the
devices they own, stored through the services as an operator would."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from fleetcare.core.auth import system_principal
from fleetcare.core.db import Database
from fleetcare.core.settings import Settings
from fleetcare.lifecycle import service
from fleetcare.lifecycle.schemas import CustomerIn, PlanIn
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ProductIn

SETUP = system_principal("tests", via="cli")
TZ = "Europe/Berlin"


@dataclass
class Fleet:
    product_id: int
    slug: str
    support_end: dt.date
    secrets: dict[str, str]


def make_fleet(
    database: Database,
    settings: Settings,
    *,
    support_end: dt.date = dt.date(2031, 3, 31),
    customers: int = 3,
    devices_each: int = 2,
    channels: tuple[str, ...] = ("email",),
    webhook_url: str = "",
    milestones: tuple[int, ...] = (24, 12, 6, 3, 1),
    name: str = "Thermostat T1",
    plan: bool = True,
) -> Fleet:
    """A product on the market since 2021 with a plan, `customers` customers (c1, c2, ...) each
    owning `devices_each` devices, all accepting `channels`."""
    secrets: dict[str, str] = {}
    with database.session() as session:
        product = portfolio.create_product(
            session,
            ProductIn(
                name=name,
                model_id="T1",
                placed_on_market=dt.date(2021, 1, 4),
                support_end=support_end,
            ),
            actor=SETUP,
        )
        if plan:
            service.save_plan(
                session,
                product.id,
                PlanIn(
                    milestones=list(milestones),
                    upgrade_path="Move to the T2; schedules carry over.",
                    transition_offer="30 % off a T2 until the end of support.",
                    decommissioning={"factory_reset": "Hold the dial for 10 seconds."},
                ),
                actor=SETUP,
            )
        rows = ["device,customer,product"]
        for n in range(1, customers + 1):
            ref = f"c{n}"
            _customer, secret = service.save_customer(
                session,
                CustomerIn(
                    ref=ref,
                    name=f"Customer {n}",
                    kind="consumer" if n % 2 else "business",
                    language="de" if n == 2 else "en",
                    emails=[f"owner{n}@example.test"],
                    webhook_url=webhook_url,
                    channels=list(channels),
                    transition_offers=n != 3,
                ),
                actor=SETUP,
                settings=settings,
            )
            if secret:
                secrets[ref] = secret
            rows += [f"{ref}-dev{d},{ref},{product.slug}" for d in range(devices_each)]
        if len(rows) > 1:
            service.import_devices_csv(session, "\n".join(rows) + "\n", actor=SETUP)
        session.commit()
        return Fleet(product.id, product.slug, support_end, secrets)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users for tokens and logins are made in most tests here; argon2 at production cost
    would dominate their run time (tests/core covers the real parameters)."""
    from argon2 import PasswordHasher

    from fleetcare.core import auth

    monkeypatch.setattr(
        auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def eol_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"timezone": TZ, "base_url": "https://fleet.example"})
