"""Fixtures for Article 14 tests: SMTP, jobs at once, products, and a world with exploited
findings (the demo portfolio, feed sample and SBOMs, which hold a CISA KEV hit)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fleetcare import wiring
from fleetcare.core.auth import Role, system_principal
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ProductIn, ReleaseIn
from tests.notify_support import jobs, running_smtp

SETUP = system_principal("tests", via="cli")


@pytest.fixture(scope="session")
def smtp():
    yield from running_smtp()


@pytest.fixture
def mail(smtp):
    smtp.clear()
    return smtp


@pytest.fixture
def settings(settings, smtp):
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "smtp_from": "psirt@fleetcare.test",
            "base_url": "https://psirt.example.com",
            "timezone": "Europe/Berlin",
            "manufacturer_main_establishment": "DE",
            "markets": ["DE", "FR", "NL"],
            "reporting_alert_lead_hours": [12.0, 4.0, 1.0],
        }
    )


@pytest.fixture
def wired(settings, database):
    with jobs(settings, database):
        yield


@pytest.fixture
def client(client, wired):
    return client


@pytest.fixture
def psirt(tokens) -> dict[str, str]:
    return tokens.headers(Role.SECURITY)


@pytest.fixture
def gateway(database) -> str:
    """Gateway X1 with a released feature release 1.0.0 and security release 1.0.1."""
    with database.session() as session:
        product = portfolio.create_product(
            session,
            ProductIn(name="Gateway X1", model_id="GX1", placed_on_market=dt.date(2025, 3, 1),
                      support_end=dt.date(2032, 3, 31), intended_purpose="Home gateway"),
            actor=SETUP,
        )
        for version, kind, day in (("1.0.0", "feature", dt.date(2025, 3, 1)),
                                   ("1.0.1", "security", dt.date.today())):
            portfolio.create_release(
                session, product.id,
                ReleaseIn(version=version, release_date=day, kind=kind, status="released"),
                actor=SETUP,
            )
        session.commit()
    return "gateway-x1"


@pytest.fixture
def exploited_world(database) -> None:
    """The demo products, feeds and SBOMs: CVE-2024-1086 (in CISA KEV) hits two released
    products."""
    from fleetcare.demo import DEMO_DATA, DEMO_SBOMS, PRODUCTS
    from fleetcare.intel import service as intel
    from fleetcare.sbom import service as sbom

    wiring.connect()
    with database.session() as session:
        for template in PRODUCTS:
            spec = dict(template)
            releases = spec.pop("releases")
            product = portfolio.create_product(session, ProductIn.model_validate(spec),
                                               actor=SETUP)
            for version, day, kind in releases:
                portfolio.create_release(
                    session, product.id,
                    ReleaseIn(version=version, release_date=day, kind=kind, status="released"),
                    actor=SETUP,
                )
        intel.sync_directory(session, DEMO_DATA / "feeds")
        for file_name, (product_name, version) in DEMO_SBOMS.items():
            sbom.import_sbom(session, product_name, version,
                             (DEMO_DATA / "sboms" / file_name).read_bytes(),
                             file_name=file_name, actor=SETUP)
        session.commit()


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def case_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": "severe_incident",
        "title": "Malicious firmware pushed through a stolen signing key",
        "summary": "An attacker signed and pushed firmware to 40 gateways.",
        "aware_at": iso(dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)),
        "awareness_evidence": "SOC ticket 4711: unexpected firmware hash on 40 devices",
        "products": [{"product": "Gateway X1", "versions": ["1.0.0"]}],
    }
    fields.update(changes)
    return fields
