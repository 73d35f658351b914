"""The TUF repository: keys, root checks, signing releases, re-signing before expiry."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from fleetcare.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from fleetcare.updates import keys, repository, service
from fleetcare.updates.models import SignedRelease
from tests.updates.conftest import ACTOR, add_release, firmware


def _json(session, name):  # type: ignore[no-untyped-def]
    return json.loads(repository.metadata_file(session, name))


def test_keys_init_writes_a_root_signed_by_every_root_key(tmp_path):
    path = keys.init_keys(tmp_path / "k", root_keys=3, threshold=2)
    root = keys.check_root(path.read_bytes())
    assert root.signed.roles["root"].threshold == 2
    assert len(root.signatures) == 3
    assert root.signed.consistent_snapshot
    assert sorted(p.name for p in (tmp_path / "k").glob("*.pem")) == [
        "root-1.pem",
        "root-2.pem",
        "root-3.pem",
        "snapshot.pem",
        "targets.pem",
        "timestamp.pem",
    ]
    with pytest.raises(Conflict, match="already holds keys"):
        keys.init_keys(tmp_path / "k")
    with pytest.raises(InvalidInput, match="threshold"):
        keys.init_keys(tmp_path / "other", root_keys=2, threshold=3)


def test_a_root_below_its_threshold_or_tampered_is_refused(tmp_path):
    path = keys.init_keys(tmp_path / "k", root_keys=3, threshold=2)
    document = json.loads(path.read_bytes())
    document["signatures"] = document["signatures"][:1]
    with pytest.raises(InvalidInput, match="not signed by enough"):
        keys.check_root(json.dumps(document).encode())
    document = json.loads(path.read_bytes())
    document["signed"]["expires"] = "2099-01-01T00:00:00Z"
    with pytest.raises(InvalidInput, match="not signed by enough"):
        keys.check_root(json.dumps(document).encode())


def test_signing_releases_gives_rising_counters_and_delegated_targets(database, settings, fleet):
    with database.session() as session:
        counters = sorted(session.query(SignedRelease.counter).all())
        assert counters == [(1,), (2,)]
        roles = {role: version for role, version, _ in repository.status(session)}
        assert roles[f"product-{fleet.product_id}"] == 2
        targets = _json(session, f"{roles['targets']}.targets.json")["signed"]
        delegation = targets["delegations"]["roles"][0]
        assert delegation["name"] == f"product-{fleet.product_id}"
        assert delegation["paths"] == [f"{fleet.product_id}/*/*"]
        product = _json(session, f"2.product-{fleet.product_id}.json")["signed"]["targets"]
        entry = product[f"{fleet.product_id}/2.0.0/image.bin"]
        assert entry["length"] == len(firmware("2.0.0"))
        assert entry["custom"]["release_counter"] == 2
        snapshot = _json(session, f"{roles['snapshot']}.snapshot.json")["signed"]["meta"]
        assert snapshot[f"product-{fleet.product_id}.json"]["version"] == 2
        timestamp = _json(session, "timestamp.json")["signed"]
        assert timestamp["meta"]["snapshot.json"]["version"] == roles["snapshot"]


def test_signing_refuses_what_cannot_be_published(database, settings, fleet):
    add_release(database, settings, "3.0.0", sign=False)
    with database.session() as session:
        with pytest.raises(Conflict, match="already signed"):
            service.sign_release(session, settings, "gateway", "2.0.0", actor=ACTOR)
        with pytest.raises(Conflict, match="already signed"):
            service.upload_artifact(
                session, settings, "gateway", "2.0.0", "x.bin", io.BytesIO(b"x"), actor=ACTOR
            )
        with pytest.raises(NotFound):
            service.sign_release(session, settings, "gateway", "9.9.9", actor=ACTOR)
        with pytest.raises(RuleViolation, match="not a usable artifact file name"):
            service.upload_artifact(
                session, settings, "gateway", "3.0.0", "../x", io.BytesIO(b"x"), actor=ACTOR
            )
        service.delete_artifact(session, settings, "gateway", "3.0.0", "image.bin", actor=ACTOR)
        with pytest.raises(RuleViolation, match="no artifacts"):
            service.sign_release(session, settings, "gateway", "3.0.0", actor=ACTOR)
        with pytest.raises(RuleViolation, match="13\\(9\\)"):
            service.delete_artifact(session, settings, "gateway", "2.0.0", "image.bin", actor=ACTOR)


def test_identical_artifacts_are_stored_once(database, settings, fleet):
    cfg = service.config(settings)
    first, _ = cfg.storage.put(io.BytesIO(b"same bytes"), 100)
    second, size = cfg.storage.put(io.BytesIO(b"same bytes"), 100)
    assert first == second
    assert size == 10
    assert cfg.storage.open(first).read() == b"same bytes"
    stored = [p for p in (settings.data_dir / "artifacts").rglob("*") if p.is_file()]
    assert len(stored) == 3  # two firmware images and this one


def test_refresh_re_signs_only_what_nears_expiry(database, settings, fleet):
    cfg = service.config(settings)
    with database.session() as session:
        before = {role: version for role, version, _ in repository.status(session)}
        assert repository.refresh(session, cfg.keys_dir, lifetimes=cfg.lifetimes) == []
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=13)
        assert repository.refresh(session, cfg.keys_dir, lifetimes=cfg.lifetimes, now=later) == [
            "timestamp"
        ]
        much_later = dt.datetime.now(dt.UTC) + dt.timedelta(days=50)
        signed = repository.refresh(session, cfg.keys_dir, lifetimes=cfg.lifetimes, now=much_later)
        assert set(signed) == {"targets", f"product-{fleet.product_id}", "snapshot", "timestamp"}
        after = {role: version for role, version, _ in repository.status(session)}
        assert after["timestamp"] == before["timestamp"] + 2
        assert after["root"] == before["root"]
        # every old version stays servable (consistent snapshots)
        assert repository.metadata_file(session, f"{before['snapshot']}.snapshot.json")


def test_metadata_names_are_checked(database, settings, fleet):
    with database.session() as session:
        for name in ("snapshot.json", "../etc/passwd", "99.snapshot.json", "1.root.txt"):
            with pytest.raises(NotFound):
                repository.metadata_file(session, name)
