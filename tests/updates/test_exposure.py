"""Exposure and coverage of the fleet by release, and the API that shows them."""

from __future__ import annotations

from sqlalchemy import update

from fleetcare.core.auth import Role
from fleetcare.matching import service as matching
from fleetcare.matching.service import FindingView
from fleetcare.portfolio import service as portfolio
from fleetcare.updates import exposure, rollouts
from fleetcare.updates.models import Device
from fleetcare.updates.schemas import RolloutIn, StatusIn
from tests.updates.conftest import ACTOR, register


def _fleet_on(database, fleet, counts):  # type: ignore[no-untyped-def]
    """Register and activate devices: {version: how many run it}."""
    number = 0
    with database.session() as session:
        for version, count in counts.items():
            uids = [f"d-{number + i}" for i in range(count)]
            number += count
            session.commit()
            register(database, uids)
            release = portfolio.get_release(session, "gateway", version)
            session.execute(
                update(Device)
                .where(Device.uid.in_(uids))
                .values(
                    state="active",
                    installed_release_id=release.id,
                    installed_version=version,
                    installed_counter=1 if version == "1.0.0" else 2,
                )
            )
            session.commit()


def test_exposure_counts_devices_on_affected_and_fixed_releases(database, settings, fleet):
    _fleet_on(database, fleet, {"1.0.0": 7, "2.0.0": 3})
    with database.session() as session:
        affected = portfolio.get_release(session, "gateway", "1.0.0").id
        versions = {r.id: r.version for r in portfolio.list_releases(session, "gateway")}
        result = exposure.exposure_of_releases(session, fleet.product_id, {affected}, versions)
    assert (result.exposed_devices, result.fixed_devices, result.other_devices) == (7, 3, 0)
    assert result.fixed_by == ["2.0.0"]
    assert result.median_days_to_patch is None


def test_coverage_and_time_to_patch_through_a_rollout(
    client, database, settings, fleet, tokens, monkeypatch
):
    _fleet_on(database, fleet, {"1.0.0": 4})
    with database.session() as session:
        rollout = rollouts.create(
            session, RolloutIn(name="fix", product="gateway", version="2.0.0"), actor=ACTOR
        )
        rollouts.start(session, rollout.id, actor=ACTOR)
        session.commit()
        device = session.query(Device).filter_by(uid="d-0").one()
        assignment = rollouts.offer_for(
            session, device, rollouts.rules.SecurityChoice.AUTOMATIC, rollouts.utcnow()
        )
        from fleetcare.updates import devices

        devices.report_status(
            session, device, StatusIn(assignment=assignment["id"], status="success")
        )
        affected = portfolio.get_release(session, "gateway", "1.0.0")
    coverage = client.get("/api/v1/products/gateway/coverage", headers=tokens.headers(Role.VIEWER))
    assert coverage.status_code == 200
    by_version = {c["version"]: c for c in coverage.json()}
    assert by_version["2.0.0"]["devices"] == 1
    assert by_version["2.0.0"]["updated_by_rollouts"] == 1
    assert by_version["2.0.0"]["median_days_to_patch"] is not None
    assert by_version["1.0.0"]["devices"] == 3

    def findings(session, vulnerability_id):  # type: ignore[no-untyped-def]
        assert vulnerability_id == "CVE-2026-0001"
        return [
            FindingView(
                1,
                vulnerability_id,
                fleet.product_id,
                "Gateway",
                affected.id,
                "1.0.0",
                "released",
                "openssl",
                "3.0.1",
                9.8,
                False,
                False,
                affected.created_at,
                False,
            )
        ]

    monkeypatch.setattr(matching, "findings_for_vulnerability", findings)
    shown = client.get(
        "/api/v1/vulnerabilities/CVE-2026-0001/exposure", headers=tokens.headers(Role.VIEWER)
    ).json()
    assert shown[0]["exposed_devices"] == 3
    assert shown[0]["fixed_devices"] == 1
    assert shown[0]["fixed_by"] == ["2.0.0"]
