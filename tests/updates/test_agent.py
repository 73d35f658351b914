"""The reference agent against the server, with python-tuf's ngclient doing the verification.

Each attack below is staged on the server side (database, key files or artifact storage) the
way a compromised server or mirror could, and the device must refuse it and install nothing.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete, select, update

from fleetcare.updates import keys, repository, rollouts, service
from fleetcare.updates.agent import Agent
from fleetcare.updates.models import Assignment, Device, Rollout, TufMetadata
from fleetcare.updates.schemas import RolloutIn
from tests.updates.conftest import ACTOR, add_release, enrolled, firmware, register


@pytest.fixture
def agent(client, database, fleet, tmp_path):  # type: ignore[no-untyped-def]
    register(database, ["dev-1"])
    device = enrolled(client, tmp_path, "dev-1")
    agent = Agent(device, tmp_path / "devices" / "dev-1", trusted_root=fleet.root)
    agent.set_factory_release("1.0.0", 1)
    assert agent.run_once() == "idle"  # reports 1.0.0, fetches nothing
    return agent


def _ship(database, version="2.0.0"):  # type: ignore[no-untyped-def]
    with database.session() as session:
        rollout = rollouts.create(
            session, RolloutIn(name="r", product="gateway", version=version), actor=ACTOR
        )
        rollouts.start(session, rollout.id, actor=ACTOR)
        session.commit()
        return rollout.id


def _assignment_status(database):  # type: ignore[no-untyped-def]
    with database.session() as session:
        return session.execute(select(Assignment.status, Assignment.detail)).one()


def _nothing_installed(agent):  # type: ignore[no-untyped-def]
    return agent.installed["version"] == "1.0.0" and not any(agent.installed_dir.iterdir())


def test_a_signed_update_is_verified_installed_and_reported(agent, database, fleet):
    _ship(database)
    assert agent.run_once() == "installed 2.0.0"
    assert (agent.installed_dir / "2.0.0" / "image.bin").read_bytes() == firmware("2.0.0")
    assert agent.installed == {"version": "2.0.0", "release_counter": 2}
    assert _assignment_status(database)[0] == "success"
    assert agent.run_once() == "idle"


def test_an_interrupted_download_resumes(agent, database, fleet, monkeypatch):
    import hashlib

    image = firmware("2.0.0")
    digest = hashlib.sha256(image).hexdigest()
    (agent.download_dir / f"{digest}.image.bin").write_bytes(image[:30000])
    seen: list[str | None] = []
    original = agent.client.request

    def spy(method, path, **kwargs):  # type: ignore[no-untyped-def]
        if "/tuf/targets/" in path:
            seen.append((kwargs.get("headers") or {}).get("Range"))
        return original(method, path, **kwargs)

    monkeypatch.setattr(agent.client, "request", spy)
    _ship(database)
    assert agent.run_once() == "installed 2.0.0"
    assert seen == ["bytes=30000-"]


def test_outside_the_maintenance_window_the_update_is_downloaded_ahead(
    agent, database, fleet, monkeypatch
):
    fetched: list[str] = []
    original = agent.client.request

    def spy(method, path, **kwargs):  # type: ignore[no-untyped-def]
        if "/tuf/targets/" in path:
            fetched.append(path)
        return original(method, path, **kwargs)

    monkeypatch.setattr(agent.client, "request", spy)
    rollout_id = _ship(database)
    today = dt.datetime.now(dt.UTC).weekday()
    with database.session() as session:  # a window on another day only
        session.execute(
            update(Rollout)
            .where(Rollout.id == rollout_id)
            .values(windows=[{"days": [(today + 3) % 7], "start": "01:00", "end": "02:00"}])
        )
        session.commit()
    waiting = "downloaded 2.0.0, waiting for a maintenance window"
    assert agent.run_once() == waiting
    assert len(fetched) == 1
    assert _nothing_installed(agent)
    assert _assignment_status(database)[0] == "downloading"
    assert agent.run_once() == waiting  # already here: checked again, not fetched again
    assert len(fetched) == 1
    assert _nothing_installed(agent)

    every_day = list(range(7))
    with database.session() as session:  # the window opens
        session.execute(
            update(Rollout)
            .where(Rollout.id == rollout_id)
            .values(
                windows=[
                    {"days": every_day, "start": "00:00", "end": "12:00"},
                    {"days": every_day, "start": "12:00", "end": "00:00"},
                ]
            )
        )
        session.commit()
    assert agent.run_once() == "installed 2.0.0"
    assert len(fetched) == 1
    assert (agent.installed_dir / "2.0.0" / "image.bin").read_bytes() == firmware("2.0.0")
    assert _assignment_status(database)[0] == "success"


def test_a_tampered_target_is_refused(agent, database, settings, fleet):
    stored = service.config(settings).storage
    import hashlib

    digest = hashlib.sha256(firmware("2.0.0")).hexdigest()
    path = settings.data_dir / "artifacts" / digest[:2] / digest
    path.write_bytes(b"evil" + path.read_bytes()[4:])
    assert stored.exists(digest)
    _ship(database)
    outcome = agent.run_once()
    assert outcome.startswith("refused:")
    assert "signed length and hash" in outcome
    assert _nothing_installed(agent)
    status, detail = _assignment_status(database)
    assert status == "failure"
    assert "refused" in detail


def _tamper_latest(database, role, change):  # type: ignore[no-untyped-def]
    with database.session() as session:
        row = (
            session.execute(
                select(TufMetadata)
                .where(TufMetadata.role == role)
                .order_by(TufMetadata.version.desc())
            )
            .scalars()
            .first()
        )
        document = json.loads(row.body)
        change(document["signed"])
        row.body = json.dumps(document).encode()
        session.commit()


def test_tampered_metadata_is_refused(agent, database, fleet):
    _ship(database)

    def grow(signed):  # type: ignore[no-untyped-def]
        for target in signed["targets"].values():
            target["length"] += 1

    _tamper_latest(database, f"product-{fleet.product_id}", grow)
    outcome = agent.run_once()
    assert outcome.startswith("refused: TUF metadata did not verify"), outcome
    assert _nothing_installed(agent)


def _resign_all(database, settings, now):  # type: ignore[no-untyped-def]
    """New targets/snapshot/timestamp versions signed as if at `now`."""
    cfg = service.config(settings)
    with database.session() as session:
        repository.publish_product(
            session,
            cfg.keys_dir,
            1,
            service.product_targets(session, 1),
            lifetimes=cfg.lifetimes,
            now=now,
        )
        session.commit()


def test_expired_metadata_is_refused(agent, database, settings, fleet):
    _ship(database)
    _resign_all(database, settings, dt.datetime.now(dt.UTC) - dt.timedelta(days=120))
    outcome = agent.run_once()
    assert "ExpiredMetadataError" in outcome
    assert _nothing_installed(agent)


def test_a_frozen_timestamp_is_refused(agent, database, settings, fleet):
    """A mirror that keeps serving the last timestamp after it lapsed cannot freeze a device."""
    _ship(database)
    cfg = service.config(settings)
    with database.session() as session:
        stale = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        repository._new_timestamp(
            session,
            cfg.keys_dir,
            cfg.lifetimes,
            stale,
            repository.status(session)[2][1],
        )
        session.commit()
    outcome = agent.run_once()
    assert "ExpiredMetadataError" in outcome
    assert "timestamp" in outcome
    assert _nothing_installed(agent)


def test_rollback_to_older_metadata_is_refused(agent, database, settings, fleet):
    add_release(database, settings, "3.0.0")  # one more timestamp version
    # the device has seen the newest metadata once
    updater = agent._updater()
    updater.refresh()
    with database.session() as session:  # an attacker serves the older timestamp again
        newest = max(v for r, v, _ in repository.status(session) if r == "timestamp")
        session.execute(
            delete(TufMetadata).where(
                TufMetadata.role == "timestamp", TufMetadata.version == newest
            )
        )
        session.commit()
    _ship(database, "2.0.0")
    outcome = agent.run_once()
    assert "BadVersionNumberError" in outcome, outcome
    assert _nothing_installed(agent)


def test_a_release_signed_by_the_wrong_key_is_refused(agent, database, settings, fleet):
    cfg = service.config(settings)
    key_file = cfg.keys_dir / f"product-{fleet.product_id}.pem"
    key_file.unlink()
    from securesystemslib.signer import CryptoSigner

    keys.write_private_key(key_file, CryptoSigner.generate_ed25519())
    add_release(database, settings, "3.0.0")
    _ship(database, "3.0.0")
    outcome = agent.run_once()
    assert "UnsignedMetadataError" in outcome, outcome
    assert _nothing_installed(agent)


def test_a_lower_release_counter_is_refused_even_when_offered(agent, database, fleet):
    agent.set_factory_release("2.0.0", 2)
    with database.session() as session:  # the server was made to believe the device is on 1.0.0
        session.execute(update(Device).values(installed_version="", installed_counter=0))
        session.commit()
    agent.set_factory_release("", 2)
    _ship(database, "1.0.0")
    outcome = agent.run_once()
    assert "rollback" in outcome, outcome
    assert not any(agent.installed_dir.iterdir())
    assert _assignment_status(database)[0] == "failure"


@pytest.mark.parametrize("role", ["timestamp", "snapshot", "targets", "root", "product-1"])
def test_the_device_follows_a_key_rotation(agent, database, settings, fleet, role):
    cfg = service.config(settings)
    agent._updater().refresh()
    with database.session() as session:
        repository.rotate_key(session, cfg.keys_dir, fleet.offline, role, lifetimes=cfg.lifetimes)
        session.commit()
    _ship(database)
    assert agent.run_once() == "installed 2.0.0"
    if role == "root":
        assert (fleet.offline / "2.root.json").exists()
        assert len(list((fleet.offline / "retired").glob("root-*.pem"))) == 1


def test_metadata_signed_by_a_revoked_key_is_refused(agent, database, settings, fleet, tmp_path):
    cfg = service.config(settings)
    old = (cfg.keys_dir / "timestamp.pem").read_bytes()
    with database.session() as session:
        repository.rotate_key(
            session, cfg.keys_dir, fleet.offline, "timestamp", lifetimes=cfg.lifetimes
        )
        session.commit()
    (cfg.keys_dir / "timestamp.pem").write_bytes(old)  # an attacker holding the old key
    add_release(database, settings, "3.0.0")  # signs a new timestamp with it
    _ship(database, "3.0.0")
    outcome = agent.run_once()
    assert "UnsignedMetadataError" in outcome, outcome
    assert "timestamp" in outcome
    assert _nothing_installed(agent)
