"""A realistic demo portfolio for `make run`: products in every CRA category and support state.

The admin password is generated on first load, kept (mode 0600) in the data directory and
printed every time, so that `make run` always tells you how to log in.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetcare.core import auth
from fleetcare.core.auth import Principal, Role
from fleetcare.core.models import User
from fleetcare.core.settings import get_settings
from fleetcare.portfolio import service
from fleetcare.portfolio.models import Product
from fleetcare.portfolio.schemas import ProductIn, ReleaseIn

DEMO_ADMIN = "admin@fleetcare.example"
DEMO_USERS = {
    "psirt@fleetcare.example": Role.SECURITY,
    "releases@fleetcare.example": Role.RELEASE,
    "products@fleetcare.example": Role.PRODUCT,
    "auditor@fleetcare.example": Role.VIEWER,
}

_D = dt.date

PRODUCTS: list[dict[str, Any]] = [
    {
        "name": "Thermostat T3",
        "model_id": "TH-T3",
        "cra_category": "default",
        "description": "Wi-Fi room thermostat with app control and OTA firmware.",
        "intended_purpose": "Heating control in homes and small offices.",
        "placed_on_market": _D(2025, 9, 1),
        "support_end": _D(2031, 9, 30),
        "releases": [
            ("3.0.0", _D(2025, 8, 20), "feature"),
            ("3.0.4", _D(2026, 2, 11), "security"),
            ("3.1.0", _D(2026, 9, 3), "mixed"),
        ],
    },
    {
        "name": "Thermostat T2",
        "model_id": "TH-T2",
        "cra_category": "default",
        "description": "Previous-generation room thermostat.",
        "intended_purpose": "Heating control in homes.",
        "placed_on_market": _D(2021, 5, 1),
        "end_of_sale": _D(2025, 8, 31),
        "support_end": _D(2027, 6, 30),
        "successor": "Thermostat T3",
        "releases": [
            ("2.4.0", _D(2023, 3, 1), "feature"),
            ("2.4.7", _D(2025, 4, 9), "security"),
            ("2.4.9", _D(2026, 7, 22), "security"),
        ],
    },
    {
        "name": "Gateway GX-500",
        "model_id": "GX-500",
        "cra_category": "important_class_i",
        "description": "Home router and smart-home gateway (OpenWrt based) with Zigbee and Thread.",
        "intended_purpose": "Internet access and smart-home hub for households.",
        "placed_on_market": _D(2024, 3, 1),
        "support_end": _D(2034, 3, 31),
        "support_justification": {
            "user_expectations": "Customers replace routers after 8-10 years on average.",
            "peer_support_periods": "Comparable routers publish 8-10 year security support.",
            "third_party_components": "OpenWrt LTS branches and the Linux LTS kernel are tracked.",
        },
        "releases": [
            ("23.05.2-gx1", _D(2024, 2, 15), "feature"),
            ("23.05.3-gx2", _D(2024, 9, 10), "mixed"),
            ("23.05.5-gx3", _D(2025, 2, 14), "security"),
            ("24.10.0-gx4", _D(2025, 10, 1), "feature"),
            ("24.10.2-gx5", _D(2026, 6, 30), "security"),
        ],
    },
    {
        "name": "Edge Firewall FW-200",
        "model_id": "FW-200",
        "cra_category": "important_class_ii",
        "description": "Small-business firewall appliance with VPN.",
        "intended_purpose": "Perimeter protection for offices up to 50 users.",
        "placed_on_market": _D(2023, 1, 16),
        "support_end": _D(2033, 1, 31),
        "releases": [
            ("7.0.1", _D(2023, 1, 10), "feature"),
            ("7.0.5", _D(2024, 5, 2), "security"),
            ("7.2.0", _D(2026, 3, 18), "mixed"),
        ],
    },
    {
        "name": "Smart Meter Gateway SMG-1",
        "model_id": "SMG-1",
        "cra_category": "critical",
        "description": "Metering gateway with a certified security module.",
        "intended_purpose": "Secure communication of household energy meter data.",
        "placed_on_market": _D(2023, 6, 1),
        "support_end": _D(2035, 12, 31),
        "releases": [("1.8.0", _D(2023, 5, 20), "feature"), ("1.8.3", _D(2025, 11, 4), "security")],
    },
    {
        "name": "Smart Plug SP1",
        "model_id": "SP1-EU",
        "cra_category": "default",
        "description": "Switchable socket with energy metering (discontinued).",
        "intended_purpose": "Switching and metering household appliances.",
        "placed_on_market": _D(2019, 6, 1),
        "end_of_sale": _D(2023, 12, 31),
        "support_end": _D(2025, 6, 30),
        "releases": [
            ("1.2.0", _D(2019, 5, 15), "feature"),
            ("1.2.6", _D(2024, 11, 20), "security"),
        ],
    },
    {
        "name": "Kids Tracker Band",
        "model_id": "KTB-1",
        "cra_category": "default",
        "description": "GPS wristband for children aged 6 to 9.",
        "intended_purpose": "Location sharing with parents.",
        "placed_on_market": _D(2026, 2, 1),
        "expected_use_months": 36,
        "support_end": _D(2029, 3, 31),
        "support_justification": {
            "user_expectations": "Sized for ages 6-9; families stop using it after 3 years.",
            "nature_and_purpose": "Wearable for a fixed age range; battery rated for 3 years.",
            "union_law_lifetime": "No Union law sets a lifetime for this product type.",
            "peer_support_periods": "Comparable trackers publish 2-3 years of support.",
            "operating_environment": "The LTE-M network used is committed until 2032.",
            "third_party_components": "The modem firmware is supported by its vendor until 2030.",
        },
        "releases": [("1.0.0", _D(2026, 1, 20), "feature"), ("1.0.2", _D(2026, 10, 5), "security")],
    },
]


def _admin_password() -> str:
    settings = get_settings()
    path = settings.data_dir / "demo-admin-password"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password)
    return password


DEMO_DATA = Path(__file__).parent / "demo_data"
#: Demo SBOM file -> (product, release) it is attached to.
DEMO_SBOMS = {
    "gx-500-23.05.5-gx3.cdx.json": ("Gateway GX-500", "23.05.5-gx3"),
    "gx-500-24.10.2-gx5.cdx.json": ("Gateway GX-500", "24.10.2-gx5"),
    "th-t2-2.4.9.cdx.json": ("Thermostat T2", "2.4.9"),
    "th-t3-3.1.0.cdx.json": ("Thermostat T3", "3.1.0"),
}


def _load_vulnerability_demo(session: Session, actor: Principal) -> list[str]:
    """The bundled feed sample and real-shaped SBOMs, so that findings show at once."""
    from fleetcare.intel import service as intel
    from fleetcare.sbom import service as sbom
    from fleetcare.wiring import connect

    connect()
    results = intel.sync_directory(session, DEMO_DATA / "feeds")
    for file_name, (product, version) in DEMO_SBOMS.items():
        data = (DEMO_DATA / "sboms" / file_name).read_bytes()
        sbom.import_sbom(session, product, version, data, file_name=file_name, actor=actor)
    records = sum(r.records for r in results)
    return [f"demo feeds loaded ({records} records) and {len(DEMO_SBOMS)} SBOMs attached"]


def load_demo(session: Session, *, actor: Principal, if_empty: bool = False) -> list[str]:
    report: list[str] = []
    password = _admin_password()
    if session.execute(select(User.id).where(User.email == DEMO_ADMIN)).first() is None:
        auth.create_user(session, email=DEMO_ADMIN, role=Role.ADMIN, password=password, actor=actor)
        for email, role in DEMO_USERS.items():
            auth.create_user(session, email=email, role=role, password=password, actor=actor)
    if if_empty and session.execute(select(Product.id)).first() is not None:
        report.append("demo data already loaded")
    else:
        for template in PRODUCTS:
            spec = dict(template)
            releases = spec.pop("releases")
            if session.execute(select(Product.id).where(Product.name == spec["name"])).first():
                continue
            product = service.create_product(session, ProductIn.model_validate(spec), actor=actor)
            for version, day, kind in releases:
                service.create_release(
                    session,
                    product.id,
                    ReleaseIn(version=version, release_date=day, kind=kind, status="released"),
                    actor=actor,
                )
        service.record_support_status_changes(session)
        report.append(f"demo portfolio loaded: {len(PRODUCTS)} products")
        report.extend(_load_vulnerability_demo(session, actor))
        from fleetcare.reporting.demo import load_demo as load_reporting_demo

        report.extend(load_reporting_demo(session, actor=actor, settings=get_settings()))
        from fleetcare.advisories.demo import load_demo as load_advisories_demo

        report.extend(load_advisories_demo(session, actor=actor, settings=get_settings()))
        from fleetcare.updates.demo import load_demo as load_updates_demo

        report.extend(load_updates_demo(session, get_settings(), actor=actor))
        from fleetcare.lifecycle.demo import load_demo as load_lifecycle_demo

        report.extend(load_lifecycle_demo(session, actor=actor, settings=get_settings()))
    settings = get_settings()
    report.append(
        f"log in at {settings.base_url}/login as {DEMO_ADMIN} with password {password} "
        f"(also {', '.join(DEMO_USERS)} with the same password, one per role)"
    )
    return report
