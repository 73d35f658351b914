"""Demo data of updates: a TUF repository, signed Thermostat T3 releases, a simulated fleet of
a few thousand devices, and one security rollout half-way through its second wave.

The demo's root keys are written into `<data_dir>/demo-offline-keys` so that `make run` works
without any set-up; a real deployment keeps them offline (see `fleetcare keys init`).
"""

from __future__ import annotations

import io
import random
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fleetcare.core.auth import Principal
from fleetcare.core.db import utcnow
from fleetcare.core.settings import Settings
from fleetcare.portfolio import service as portfolio
from fleetcare.updates import devices, keys, repository, rollouts, service
from fleetcare.updates.models import Assignment, Device, SignedRelease
from fleetcare.updates.schemas import DeviceIn, RolloutIn, WaveIn

PRODUCT = "Thermostat T3"
FLEET = {"3.0.0": 1400, "3.0.4": 1300, "3.1.0": 300}
CUSTOMERS = ["Stadtwerke Nord", "Hausverwaltung Süd", "retail", "retail", "retail"]


def load_demo(
    session: Session, settings: Settings, *, actor: Principal, size: int = 1
) -> list[str]:
    """Load the demo; `size` multiplies the fleet (1: 3,000 devices)."""
    if repository.is_set_up(session):
        return ["update demo already loaded"]
    cfg = service.config(settings)
    offline = settings.data_dir / "demo-offline-keys"
    root = keys.init_keys(offline, root_keys=3, threshold=2)
    cfg.keys_dir.mkdir(parents=True, exist_ok=True)
    for role in keys.ONLINE_ROLES:
        target = cfg.keys_dir / f"{role}.pem"
        if not target.exists():
            target.write_bytes((offline / f"{role}.pem").read_bytes())
            target.chmod(0o600)
    repository.install_root(session, root.read_bytes())
    repository.start(session, cfg.keys_dir, lifetimes=cfg.lifetimes)
    product = portfolio.get_product(session, PRODUCT)
    for version in FLEET:
        image = f"Thermostat T3 firmware {version}\n".encode() * 2000
        service.upload_artifact(
            session, settings, product.id, version, "th-t3.bin", io.BytesIO(image), actor=actor
        )
        service.sign_release(session, settings, product.id, version, actor=actor)
    release_ids = {r.version: r.id for r in portfolio.list_releases(session, product.id)}
    counters = {
        version: session.execute(
            select(SignedRelease.counter).where(SignedRelease.release_id == release_ids[version])
        ).scalar_one()
        for version in FLEET
    }
    rng = random.Random(13)  # noqa: S311 - picks demo customers, not secrets
    entries, versions = [], {}
    number = 0
    for version, count in FLEET.items():
        for _ in range(count * size):
            number += 1
            uid = f"th3-{number:06d}"
            groups = ["canary"] if number % 50 == 0 else []
            entries.append(
                DeviceIn(
                    uid=uid,
                    secret=secrets.token_hex(16),
                    customer=rng.choice(CUSTOMERS),
                    groups=groups,
                )
            )
            versions[uid] = version
    devices.import_factory_list(session, product.id, entries, actor=actor)
    now = utcnow()
    for version in FLEET:
        release = portfolio.get_release(session, product.id, version)
        uids = [u for u, v in versions.items() if v == version]
        for start in range(0, len(uids), 1000):
            session.execute(
                update(Device)
                .where(Device.uid.in_(uids[start : start + 1000]))
                .values(
                    state="active",
                    installed_release_id=release.id,
                    installed_version=version,
                    installed_counter=counters[version],
                    last_checkin_at=now,
                    enrolled_at=now,
                )
            )
    rollout = rollouts.create(
        session,
        RolloutIn(
            name="Thermostat T3 3.1.0 (security and features)",
            product=PRODUCT,
            version="3.1.0",
            waves=[WaveIn(groups=["canary"]), WaveIn(percent=30), WaveIn(percent=100)],
        ),
        actor=actor,
    )
    rollouts.start(session, rollout.id, actor=actor)
    _progress(session, rollout.id, product.id, counters["3.1.0"], rng)
    total = sum(FLEET.values()) * size
    return [f"update demo: {total} devices of {PRODUCT}, rollout {rollout.id} in its second wave"]


def _progress(
    session: Session, rollout_id: int, product_id: int, counter: int, rng: random.Random
) -> None:
    """Canary wave done, second wave partly through, with a couple of failures."""
    release = portfolio.get_release(session, product_id, "3.1.0")
    first = list(
        session.execute(
            select(Assignment.id, Assignment.device_id).where(
                Assignment.rollout_id == rollout_id, Assignment.wave == 0
            )
        ).all()
    )
    _finish(session, [a for a, _ in first], [d for _, d in first], release.id, counter)
    rollouts.evaluate(session, rollout_id)
    second = list(
        session.execute(
            select(Assignment.id, Assignment.device_id).where(
                Assignment.rollout_id == rollout_id, Assignment.wave == 1
            )
        ).all()
    )
    rng.shuffle(second)
    done = second[: len(second) * 2 // 5]
    _finish(session, [a for a, _ in done], [d for _, d in done], release.id, counter)
    busy = [a for a, _ in second[len(done) : len(done) + 40]]
    session.execute(update(Assignment).where(Assignment.id.in_(busy)).values(status="downloading"))
    failed = [a for a, _ in second[len(done) + 40 : len(done) + 42]]
    session.execute(
        update(Assignment)
        .where(Assignment.id.in_(failed))
        .values(status="failure", detail="installing: flash write verify failed")
    )
    session.flush()


def _finish(
    session: Session,
    assignment_ids: list[int],
    device_ids: list[int],
    release_id: int,
    counter: int,
) -> None:
    for start in range(0, len(assignment_ids), 1000):
        session.execute(
            update(Assignment)
            .where(Assignment.id.in_(assignment_ids[start : start + 1000]))
            .values(status="success")
        )
        session.execute(
            update(Device)
            .where(Device.id.in_(device_ids[start : start + 1000]))
            .values(
                installed_release_id=release_id,
                installed_version="3.1.0",
                installed_counter=counter,
            )
        )
