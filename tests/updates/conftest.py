"""Fixtures of the updates tests: a TUF repository with keys, a product with signed releases,
devices enrolled with their own keys, and signed device clients."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fleetcare.core.auth import system_principal
from fleetcare.core.db import Database
from fleetcare.core.settings import Settings
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ProductIn, ReleaseIn
from fleetcare.updates import devices, keys, repository, service
from fleetcare.updates.agent import DeviceClient, DeviceIdentity
from fleetcare.updates.schemas import DeviceIn

ACTOR = system_principal("tests", via="cli")
SECRET = "factory-secret-0123456789"


@dataclass
class Fleet:
    """A product 'Gateway' with releases 1.0.0 (signed, counter 1) and 2.0.0 (security,
    signed, counter 2), and a TUF repository whose offline keys are in `offline`."""

    product_id: int
    offline: Path
    root: bytes


def firmware(version: str) -> bytes:
    return f"firmware image {version}\n".encode() * 5000


def add_release(
    database: Database, settings: Settings, version: str, kind: str = "security", sign: bool = True
) -> None:
    with database.session() as session:
        portfolio.create_release(
            session,
            "gateway",
            ReleaseIn(version=version, release_date=dt.date(2026, 1, 1), kind=kind),
            actor=ACTOR,
        )
        service.upload_artifact(
            session,
            settings,
            "gateway",
            version,
            "image.bin",
            io.BytesIO(firmware(version)),
            actor=ACTOR,
        )
        if sign:
            service.sign_release(session, settings, "gateway", version, actor=ACTOR)
        session.commit()


@pytest.fixture
def fleet(database: Database, settings: Settings, tmp_path: Path) -> Fleet:
    return make_fleet(database, settings, tmp_path)


def make_fleet(database: Database, settings: Settings, tmp_path: Path) -> Fleet:
    """Set up the TUF repository and the 'Gateway' product with two signed releases."""
    offline = tmp_path / "offline"
    root_path = keys.init_keys(offline, root_keys=3, threshold=2)
    cfg = service.config(settings)
    cfg.keys_dir.mkdir(parents=True)
    for role in keys.ONLINE_ROLES:
        shutil.copy(offline / f"{role}.pem", cfg.keys_dir / f"{role}.pem")
    with database.session() as session:
        repository.install_root(session, root_path.read_bytes())
        repository.start(session, cfg.keys_dir, lifetimes=cfg.lifetimes)
        product = portfolio.create_product(
            session,
            ProductIn(
                name="Gateway",
                placed_on_market=dt.date(2025, 1, 1),
                support_end=dt.date(2031, 1, 1),
            ),
            actor=ACTOR,
        )
        product_id = product.id
        session.commit()
    add_release(database, settings, "1.0.0")
    add_release(database, settings, "2.0.0")
    return Fleet(product_id, offline, root_path.read_bytes())


def register(
    database: Database, uids: list[str], *, groups: list[str] | None = None, customer: str = ""
) -> None:
    with database.session() as session:
        devices.import_factory_list(
            session,
            "gateway",
            [DeviceIn(uid=u, secret=SECRET, groups=groups or [], customer=customer) for u in uids],
            actor=ACTOR,
        )
        session.commit()


def enrolled(client: TestClient, tmp_path: Path, uid: str) -> DeviceClient:
    """A device client for `uid` (already registered with SECRET), enrolled with a new key."""
    identity = DeviceIdentity.load_or_create(tmp_path / "devices" / uid, uid)
    device = DeviceClient(client, identity)
    response = device.enrol(SECRET)
    assert response.status_code == 200, response.text
    return device
